"""Restoring the dispatch stage's local store from the real changelog: full, then only the tail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from core.kafka.clients import idempotent_producer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.dispatch.engine import DedupeEngine
from router.dispatch.processor import DispatchProcessor
from router.dispatch.state.slots import claim_slot
from router.dispatch.state.store import DispatchStore
from router.runtime import StageRuntime
from router.runtime.changelog import StateKeys, replay_changelog
from router.runtime.stats import StageStatus
from router.stages import dispatch_stage_config
from tests.integration.router_stage_main import (
    end_offsets,
    produce,
    wait_committed,
)
from tests.kafka_helpers import eventually, read_to_end
from tests.unit.router_builders import id_number, mobile, report

pytestmark = pytest.mark.integration


async def _write(bootstrap: str, topic: str, records: list[tuple[str, bytes | None]]) -> None:
    producer = idempotent_producer(bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def _replay(settings: Settings, topics: TopicCatalog, processor: DispatchProcessor) -> int:
    return await replay_changelog(
        settings.kafka_bootstrap,
        topics.router_state,
        processor,
        StateKeys(),
        partitions=[0],
        must_reach={},
        timeout_s=30,
    )


async def test_a_restart_replays_only_the_tail_after_its_checkpoint(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    engine = DedupeEngine()
    engine.observe(report(appeal_id="A", phone=mobile(1)))
    engine.observe(report(appeal_id="B", id_no=id_number(2)))
    head = engine.take_changes()
    engine.observe(report(appeal_id="C", phone=mobile(1), id_no=id_number(2)))  # merges A, B
    tail = engine.take_changes()
    assert any(value is None for _, value in tail)  # a tombstone of the merged case
    await _write(settings.kafka_bootstrap, topics.router_state, head)

    first = DispatchProcessor(topics, state_root=tmp_path)
    assert first.checkpoint() is None
    assert await _replay(settings, topics, first) == len(head)
    assert first.checkpoint() == {0: len(head)}
    first.close()

    await _write(settings.kafka_bootstrap, topics.router_state, tail)
    second = DispatchProcessor(topics, state_root=tmp_path)  # the same slot: its store
    assert await _replay(settings, topics, second) == len(tail)
    assert second.checkpoint() == {0: len(head) + len(tail)}
    assert second.live_keys() == engine_live_keys(head + tail)
    second.close()

    # The store now equals one rebuilt from the whole changelog.
    fresh = DispatchStore()
    for key, value in head + tail:
        fresh.restore(key, value)
    fresh.committed({0: len(head) + len(tail)})
    reopened = DispatchStore(tmp_path)
    for key, _ in head + tail:
        assert reopened.get(key) == fresh.get(key)
    reopened.close()


async def test_a_checkpoint_beyond_the_log_end_means_a_full_replay(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    engine = DedupeEngine()
    engine.observe(report(appeal_id="A", phone=mobile(1)))
    changes = engine.take_changes()
    await _write(settings.kafka_bootstrap, topics.router_state, changes)
    stale = DispatchStore(tmp_path)  # a store of another (longer) log
    stale.put("c/old", b"{}", new=True)
    stale.take()
    stale.committed({0: 1000})
    stale.close()

    processor = DispatchProcessor(topics, state_root=tmp_path)
    assert await _replay(settings, topics, processor) == len(changes)
    assert processor.checkpoint() == {0: len(changes)}
    assert processor.live_keys() == len(changes)  # the old key is gone
    processor.close()


async def _run_dispatch(
    settings: Settings, topics: TopicCatalog, state_root: Path
) -> tuple[StageStatus, int]:
    """Run the dispatch stage over every input there is; its last status and records restored."""
    config = dispatch_stage_config(settings)
    processor = DispatchProcessor(topics, state_root=state_root)
    runtime = StageRuntime(config, processor)
    targets = await end_offsets(settings.kafka_bootstrap, *config.input_topics)
    task = asyncio.create_task(runtime.run())
    try:
        await wait_committed(settings.kafka_bootstrap, config.group_id, targets)

        async def restored() -> bool:
            return runtime.status().counters.restores >= 1

        await eventually(restored)
        status = runtime.status()
    finally:
        runtime.stop()
        await task
        processor.close()
    return status, status.counters.records_restored


async def test_a_restarted_dispatch_stage_replays_no_more_than_the_tail_and_goes_on(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    first_batch = [
        report(appeal_id="A", phone=mobile(1)),
        report(appeal_id="B", id_no=id_number(2)),
    ]
    later = [report(appeal_id="C", phone=mobile(1), id_no=id_number(2))]  # merges A and B
    normalized = topics.router_normalized
    await produce(settings.kafka_bootstrap, [(normalized, b"k", r.to_json()) for r in first_batch])
    status, restored = await _run_dispatch(settings, topics, tmp_path)
    assert restored == 0  # an empty changelog
    assert status.state_size == 4  # two reports, two cases

    await produce(settings.kafka_bootstrap, [(normalized, b"k", r.to_json()) for r in later])
    status, restored = await _run_dispatch(settings, topics, tmp_path)
    assert restored == 0  # its store was up to date: nothing to replay
    assert status.state_size == 4  # three reports, one case (the merged one tombstoned)

    events = await read_to_end(settings.kafka_bootstrap, *topics.dispatch_topics())
    kinds = [orjson.loads(e.value)["event_type"] for e in events]
    assert sorted(kinds) == ["case_merged", "new_case", "new_case"]

    # A process with an empty store (another slot) replays everything.
    held = claim_slot(tmp_path)  # slot-0 taken: the next processor gets an empty slot
    try:
        _, restored = await _run_dispatch(settings, topics, tmp_path)
    finally:
        held.release()
    assert restored == len(await read_to_end(settings.kafka_bootstrap, topics.router_state))


def engine_live_keys(changelog: list[tuple[str, bytes | None]]) -> int:
    last = dict(changelog)
    return sum(1 for value in last.values() if value is not None)
