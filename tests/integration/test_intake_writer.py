"""The transactional intake writer: records, dead letters and checkpoints commit together."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from connectors.checkpoints import read_checkpoints
from connectors.errors import IntakeCommitError, ProducerFencedError
from connectors.intake import Batch, IntakeWriter
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from schemas.deadletter import DeadLetter, DeadLetterError
from schemas.raw import RawEnvelope, utc_now
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


def envelope(external_id: str, version: str = "1", padding: str = "") -> RawEnvelope:
    return RawEnvelope(
        channel=Channel.CITIZEN_APP,
        connector="citizen",
        external_id=external_id,
        version=version,
        fetched_at=utc_now(),
        source="test",
        record={"appeal_id": external_id, "version": int(version), "pad": padding},
    )


def letter(external_id: str) -> DeadLetter:
    return DeadLetter(
        stage="intake",
        channel=Channel.CITIZEN_APP,
        connector="citizen",
        external_id=external_id,
        error=DeadLetterError(kind="record_malformed", message="version missing"),
        raw="{}",
        source="test",
        at=utc_now(),
    )


def writer(settings: Settings, topics: TopicCatalog, name: str = "citizen") -> IntakeWriter:
    return IntakeWriter(
        settings.kafka_bootstrap,
        topics,
        f"{settings.namespace}unionhub.connector.{name}",
        transaction_timeout_s=15,
    )


async def test_batch_lands_with_headers_and_its_checkpoint(
    settings: Settings, topics: TopicCatalog
) -> None:
    intake = writer(settings, topics)
    await intake.start()
    try:
        await intake.commit(
            Batch(
                records=[envelope("A"), envelope("B")],
                dead_letters=[letter("C")],
                checkpoints={"citizen": {"cursor": "c1"}},
            )
        )
    finally:
        await intake.close()
    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert sorted(r.key for r in raw) == [b"A", b"B"]
    assert all(
        dict(r.headers) == {"schema": b"unionhub.raw/1", "channel": b"citizen_app"} for r in raw
    )
    assert {orjson.loads(r.value)["version"] for r in raw} == {"1"}
    dlq = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
    assert [r.key for r in dlq] == [b"C"]
    assert orjson.loads(dlq[0].value)["schema"] == "unionhub.deadletter/1"
    states = await read_checkpoints(settings.kafka_bootstrap, topics.checkpoints, "citizen")
    assert states == {"citizen": {"cursor": "c1"}}


async def test_concurrent_commits_are_grouped_and_all_land(
    settings: Settings, topics: TopicCatalog
) -> None:
    intake = writer(settings, topics, "legal")
    await intake.start()
    try:
        await asyncio.gather(
            *(
                intake.commit(
                    Batch(records=[envelope(f"S{i}")], checkpoints={f"legal/S{i}": {"n": i}})
                )
                for i in range(40)
            )
        )
        assert intake.counters.records == 40
        assert intake.counters.transactions < 40  # grouped
    finally:
        await intake.close()
    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert sorted(r.key for r in raw) == sorted(f"S{i}".encode() for i in range(40))
    states = await read_checkpoints(settings.kafka_bootstrap, topics.checkpoints, "legal")
    assert states == {f"legal/S{i}": {"n": i} for i in range(40)}


async def test_a_failed_transaction_writes_nothing_and_the_writer_recovers(
    settings: Settings, topics: TopicCatalog
) -> None:
    intake = writer(settings, topics)
    await intake.start()
    try:
        too_big = envelope("BIG", padding="x" * 2_000_000)  # above max.request.size
        with pytest.raises(IntakeCommitError):
            await intake.commit(
                Batch(
                    records=[envelope("LOST"), too_big], checkpoints={"citizen": {"cursor": "bad"}}
                )
            )
        await intake.commit(
            Batch(records=[envelope("OK")], checkpoints={"citizen": {"cursor": "ok"}})
        )
    finally:
        await intake.close()
    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert [r.key for r in raw] == [b"OK"]
    states = await read_checkpoints(settings.kafka_bootstrap, topics.checkpoints, "citizen")
    assert states == {"citizen": {"cursor": "ok"}}


async def test_a_second_instance_fences_the_first(settings: Settings, topics: TopicCatalog) -> None:
    first = writer(settings, topics)
    second = writer(settings, topics)
    await first.start()
    await second.start()
    try:
        await second.commit(Batch(records=[envelope("NEW")], checkpoints={"citizen": {"n": 2}}))
        with pytest.raises(ProducerFencedError):
            await first.commit(
                Batch(records=[envelope("ZOMBIE")], checkpoints={"citizen": {"n": 1}})
            )
    finally:
        await first.close()
        await second.close()
    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert [r.key for r in raw] == [b"NEW"]
    states = await read_checkpoints(settings.kafka_bootstrap, topics.checkpoints, "citizen")
    assert states == {"citizen": {"n": 2}}


async def test_an_open_transaction_of_a_dead_writer_is_aborted_by_the_next(
    settings: Settings, topics: TopicCatalog
) -> None:
    dead = writer(settings, topics)
    await dead.start()
    producer = await dead._ensure_producer()
    await producer.begin_transaction()
    await producer.send_and_wait(topics.raw(Channel.CITIZEN_APP), b"{}", key=b"HALF")
    # The process "dies" here: its transaction stays open on the broker.
    successor = writer(settings, topics)
    await successor.start()  # fences and aborts the open transaction
    try:
        await successor.commit(
            Batch(records=[envelope("AFTER")], checkpoints={"citizen": {"n": 1}})
        )
    finally:
        await successor.close()
        await dead.close()
    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert [r.key for r in raw] == [b"AFTER"]
