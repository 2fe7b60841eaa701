"""The broker supports what unionhub relies on: transactions and topic provisioning."""

from __future__ import annotations

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from core.kafka.clients import admin_client, transactional_producer
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


async def test_committed_transaction_is_read_and_aborted_one_is_not(
    settings: Settings, topics: TopicCatalog
) -> None:
    topic = topics.router_dlq  # a one-partition topic of the catalogue
    producer = transactional_producer(settings.kafka_bootstrap, f"{settings.namespace}txn-test")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-1")
            await producer.send_and_wait(topic, b"committed-2")
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-3")
    finally:
        await producer.stop()
    records = await read_to_end(settings.kafka_bootstrap, topic)
    assert [r.value for r in records] == [b"committed-1", b"committed-2", b"committed-3"]


async def test_topics_ensure_creates_exactly_the_declared_topics_and_is_idempotent(
    settings: Settings,
) -> None:
    catalog = TopicCatalog(settings.namespace)
    specs = catalog.specs()
    async with admin_client(settings.kafka_bootstrap) as admin:
        first = await ensure_topics(admin, specs)
        second = await ensure_topics(admin, specs)
        ours = sorted(t for t in await admin.list_topics() if t.startswith(settings.namespace))
        described = await admin.describe_topics(ours)
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in ours]
        )

    assert sorted(first.created) == sorted(s.name for s in specs)
    assert not second.changed
    assert sorted(second.unchanged) == sorted(s.name for s in specs)
    assert ours == sorted(s.name for s in specs)

    partitions = {t["topic"]: len(t["partitions"]) for t in described}
    actual = {
        res[3]: {entry[0]: entry[1] for entry in res[4]}
        for response in configs
        for res in response.resources
    }
    for spec in specs:
        assert partitions[spec.name] == spec.partitions, spec.name
        for key, value in spec.configs.items():
            assert actual[spec.name][key] == value, (spec.name, key)


async def test_topics_ensure_restores_a_drifted_config(settings: Settings) -> None:
    catalog = TopicCatalog(settings.namespace)
    specs = catalog.specs()
    async with admin_client(settings.kafka_bootstrap) as admin:
        await ensure_topics(admin, specs)
        resource = ConfigResource(ConfigResourceType.TOPIC, catalog.checkpoints)
        await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, catalog.checkpoints, {"cleanup.policy": "delete"}
                )
            ]
        )

        async def policy() -> str | None:
            (response,) = await admin.describe_configs([resource])
            entries = {e[0]: e[1] for res in response.resources for e in res[4]}
            return entries.get("cleanup.policy")

        async def drifted() -> bool:
            return await policy() == "delete"

        async def restored() -> bool:
            return await policy() == "compact"

        await eventually(drifted)  # the broker's metadata view catches up asynchronously
        repaired = await ensure_topics(admin, specs)
        await eventually(restored)
        again = await ensure_topics(admin, specs)
    assert repaired.altered == {catalog.checkpoints: {"cleanup.policy": "compact"}}
    assert not again.changed


def test_catalogue_covers_the_spec() -> None:
    names = {s.name for s in TopicCatalog().specs()}
    for channel in (
        "citizen_app",
        "petition_window",
        "hotline_12351",
        "provincial_petition",
        "legal_stations",
    ):
        assert f"intake.raw.{channel}" in names
    for slug in (
        "futian",
        "luohu",
        "nanshan",
        "yantian",
        "baoan",
        "longgang",
        "longhua",
        "pingshan",
        "guangming",
        "dapeng",
        "shenshan",
        "triage",
    ):
        assert f"dispatch.{slug}" in names
    assert {"alerts.risk", "intake.dlq", "router.dlq"} <= names
    internal = names - {n for n in names if not n.startswith("unionhub.")}
    assert all(n.startswith("unionhub.") for n in internal)
