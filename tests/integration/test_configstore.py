"""The connector config store against the real broker: writes, reads, watches, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest

from core.errors import ConfigError
from core.kafka.clients import admin_client, idempotent_producer
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from tests.kafka_helpers import eventually, read_to_end
from unionhub.configstore import (
    ConfigChange,
    ConfigStore,
    ConfigTopicMissingError,
    InvalidConnectorConfigError,
    InvalidConnectorNameError,
    TargetState,
    UnknownConnectorError,
)

pytestmark = pytest.mark.integration

HOTLINE: dict[str, Any] = {
    "channel": "hotline_12351",
    "base_url": "http://127.0.0.1:18080",
    "token": "${env:HOTLINE_TOKEN}",
    "poll_interval_s": 5,
}


@pytest.fixture
async def topics(settings: Settings) -> TopicCatalog:
    """Only the config topic of this test's namespace (the whole catalogue is not needed)."""
    catalog = TopicCatalog(settings.namespace)
    specs = [spec for spec in catalog.specs() if spec.name == catalog.connector_configs]
    async with admin_client(settings.kafka_bootstrap) as admin:
        await ensure_topics(admin, specs)
    return catalog


@pytest.fixture
async def store(settings: Settings, topics: TopicCatalog) -> AsyncIterator[ConfigStore]:
    async with ConfigStore(settings.kafka_bootstrap, topics) as opened:
        yield opened


def watch_has_seen(seen: list[ConfigChange]) -> Callable[[], Awaitable[bool]]:
    async def has_a_change() -> bool:
        return bool(seen)

    return has_a_change


async def _next_changes(store_watch: Any, count: int) -> list[ConfigChange]:
    changes: list[ConfigChange] = []
    async with asyncio.timeout(20):
        async for change in store_watch:
            changes.append(change)
            if len(changes) == count:
                break
    return changes


async def test_put_then_snapshot_returns_the_config_running(store: ConfigStore) -> None:
    await store.put("hotline", HOTLINE)
    snapshot = await store.snapshot()
    assert set(snapshot) == {"hotline"}
    assert snapshot["hotline"].config == HOTLINE
    assert snapshot["hotline"].target_state is TargetState.RUNNING
    assert snapshot["hotline"].updated_at is not None
    assert snapshot["hotline"].updated_at.tzinfo is not None


async def test_changing_a_snapshot_does_not_change_the_store(store: ConfigStore) -> None:
    await store.put("hotline", HOTLINE)
    (await store.snapshot())["hotline"].config["base_url"] = "http://elsewhere"
    again = await store.get("hotline")
    assert again is not None
    assert again.config == HOTLINE


async def test_secret_references_are_stored_as_given_never_resolved(
    store: ConfigStore, settings: Settings, topics: TopicCatalog
) -> None:
    await store.put("hotline", HOTLINE)
    records = await read_to_end(settings.kafka_bootstrap, topics.connector_configs)
    assert [r.key for r in records] == [b"connector-hotline"]
    assert records[0].value is not None
    value = orjson.loads(records[0].value)
    assert value["schema"] == "unionhub.connector-config/1"
    assert value["config"]["token"] == "${env:HOTLINE_TOKEN}"


async def test_put_replaces_and_keeps_the_target_state(store: ConfigStore) -> None:
    await store.put("hotline", HOTLINE, target_state=TargetState.PAUSED)
    first = await store.get("hotline")
    await store.put("hotline", HOTLINE | {"poll_interval_s": 30})
    second = await store.get("hotline")
    assert first is not None
    assert second is not None
    assert second.config["poll_interval_s"] == 30
    assert second.target_state is TargetState.PAUSED
    assert second.offset > first.offset


async def test_set_target_state_pauses_and_resumes(store: ConfigStore) -> None:
    await store.put("hotline", HOTLINE)
    await store.set_target_state("hotline", "PAUSED")
    paused = await store.get("hotline")
    assert paused is not None
    assert paused.target_state is TargetState.PAUSED
    await store.set_target_state("hotline", TargetState.RUNNING)
    resumed = await store.get("hotline")
    assert resumed is not None
    assert resumed.target_state is TargetState.RUNNING
    assert resumed.config == HOTLINE


async def test_delete_writes_tombstones_and_removes_the_connector(
    store: ConfigStore, settings: Settings, topics: TopicCatalog
) -> None:
    await store.put("hotline", HOTLINE, target_state=TargetState.PAUSED)
    await store.put("app", {"channel": "citizen_app"})
    await store.delete("hotline")
    assert set(await store.snapshot()) == {"app"}
    records = await read_to_end(settings.kafka_bootstrap, topics.connector_configs)
    tombstones = [r.key for r in records if r.value is None]
    assert tombstones == [b"connector-hotline", b"target-state-hotline"]
    # Recreated, it starts running: the old PAUSED state went with the delete.
    await store.put("hotline", HOTLINE)
    recreated = await store.get("hotline")
    assert recreated is not None
    assert recreated.target_state is TargetState.RUNNING


async def test_unknown_connectors_cannot_be_deleted_or_paused(store: ConfigStore) -> None:
    with pytest.raises(UnknownConnectorError, match="ghost"):
        await store.delete("ghost")
    with pytest.raises(UnknownConnectorError):
        await store.set_target_state("ghost", TargetState.PAUSED)
    await store.put("hotline", HOTLINE)
    with pytest.raises(ConfigError, match="target_state"):
        await store.set_target_state("hotline", "STOPPED")


async def test_bad_names_are_refused(store: ConfigStore) -> None:
    for name in ("", "has space", "-leading-dash", "x" * 101, "斜杠/name"):
        with pytest.raises(InvalidConnectorNameError):
            await store.put(name, HOTLINE)
    assert await store.snapshot() == {}


async def test_a_config_naming_another_connector_is_refused(store: ConfigStore) -> None:
    with pytest.raises(InvalidConnectorConfigError, match="name differs"):
        await store.put("hotline", HOTLINE | {"name": "other"})
    await store.put("hotline", HOTLINE | {"name": "hotline"})
    assert set(await store.snapshot()) == {"hotline"}


async def test_validation_hook_refuses_without_quoting_the_values(
    settings: Settings, topics: TopicCatalog
) -> None:
    seen: list[dict[str, Any]] = []

    def validate(config: dict[str, Any]) -> object:
        seen.append(config)
        if "channel" not in config:
            raise ValueError(f"channel is required, got {sorted(config)} password=hunter2-secret")
        return config

    async with ConfigStore(settings.kafka_bootstrap, topics, validate=validate) as store:
        await store.put("ok", HOTLINE)
        with pytest.raises(InvalidConnectorConfigError, match="channel is required") as caught:
            await store.put("bad", {"token": "13812345678"})
        assert "13812345678" not in str(caught.value)
        assert set(await store.snapshot()) == {"ok"}
    assert seen == [HOTLINE, {"token": "13812345678"}]


async def test_pydantic_errors_name_fields_not_values(
    settings: Settings, topics: TopicCatalog
) -> None:
    from pydantic import BaseModel

    class Model(BaseModel):
        poll_interval_s: int

    async with ConfigStore(
        settings.kafka_bootstrap, topics, validate=Model.model_validate
    ) as store:
        with pytest.raises(InvalidConnectorConfigError) as caught:
            await store.put("bad", {"poll_interval_s": "s3cr3t-value"})
    assert "poll_interval_s" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)


async def test_a_second_instance_sees_changes_through_watch(
    store: ConfigStore, settings: Settings, topics: TopicCatalog
) -> None:
    await store.put("before", {"channel": "citizen_app"})
    async with ConfigStore(settings.kafka_bootstrap, topics) as other:
        assert set(await other.snapshot()) == {"before"}
        watch = other.watch()
        await store.put("hotline", HOTLINE)
        await store.set_target_state("hotline", TargetState.PAUSED)
        await store.delete("before")
        changes = await _next_changes(watch, 3)
        watch.close()
    assert [(c.kind, c.name) for c in changes] == [
        ("config", "hotline"),
        ("target_state", "hotline"),
        ("deleted", "before"),
    ]
    assert changes[0].connector is not None
    assert changes[0].connector.config == HOTLINE
    assert changes[1].connector is not None
    assert changes[1].connector.target_state is TargetState.PAUSED
    assert changes[2].connector is None
    assert changes[0].offset < changes[1].offset < changes[2].offset


async def test_watch_of_a_new_paused_connector_yields_one_paused_config(
    store: ConfigStore, settings: Settings, topics: TopicCatalog
) -> None:
    async with ConfigStore(settings.kafka_bootstrap, topics) as other:
        await other.snapshot()
        watch = other.watch()
        await store.put("hotline", HOTLINE, target_state=TargetState.PAUSED)
        await store.put("marker", {"channel": "citizen_app"})
        changes = await _next_changes(watch, 2)
        watch.close()
    assert [(c.kind, c.name) for c in changes] == [("config", "hotline"), ("config", "marker")]
    assert changes[0].connector is not None
    assert changes[0].connector.target_state is TargetState.PAUSED


async def test_a_closed_watch_ends(store: ConfigStore) -> None:
    watch = store.watch()
    watch.close()
    assert [change async for change in watch] == []


async def test_stopping_the_store_ends_a_running_watch(
    settings: Settings, topics: TopicCatalog
) -> None:
    store = ConfigStore.for_settings(settings)
    await store.start()
    watch = store.watch()
    seen: list[ConfigChange] = []

    async def follow() -> None:
        async for change in watch:
            seen.append(change)  # noqa: PERF401 - the test watches the list grow

    task = asyncio.create_task(follow())
    try:
        await store.put("hotline", HOTLINE)
        await eventually(watch_has_seen(seen))
    finally:
        await store.stop()
    await asyncio.wait_for(task, timeout=10)
    assert [c.name for c in seen] == ["hotline"]


async def test_a_new_instance_after_restart_loses_nothing(
    settings: Settings, topics: TopicCatalog
) -> None:
    async with ConfigStore(settings.kafka_bootstrap, topics) as first:
        for index in range(5):
            await first.put(f"station-{index}", {"channel": "legal_stations", "n": index})
        await first.set_target_state("station-2", TargetState.PAUSED)
        await first.delete("station-4")
        expected = await first.snapshot()
    async with ConfigStore(settings.kafka_bootstrap, topics) as restarted:
        again = await restarted.snapshot()
    assert again == expected
    assert set(again) == {"station-0", "station-1", "station-2", "station-3"}
    assert again["station-2"].target_state is TargetState.PAUSED


async def test_unreadable_records_are_reported_and_skipped(
    store: ConfigStore, settings: Settings, topics: TopicCatalog
) -> None:
    producer = idempotent_producer(settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.connector_configs, b"not json", key=b"connector-x")
        await producer.send_and_wait(topics.connector_configs, b"{}", key=b"something-else")
    finally:
        await producer.stop()
    await store.put("hotline", HOTLINE)
    assert set(await store.snapshot()) == {"hotline"}
    reasons = [r.reason for r in store.rejected]
    assert reasons == [
        "value is not JSON",
        "key is not connector-, target-state- or access-<name>",
    ]


async def test_start_fails_clearly_without_the_topic(settings: Settings) -> None:
    with pytest.raises(ConfigTopicMissingError, match="topics ensure"):
        await ConfigStore(
            settings.kafka_bootstrap, TopicCatalog(settings.namespace), topic_wait_s=0.5
        ).start()
