"""Replaying a stage's compacted changelog into its processor.

The changelog is written only inside the stage's transactions, so reading it
read_committed up to its last stable offset yields exactly the committed
state. A transaction's commit returns before the broker has written its
markers; a replay that must include our own last commit therefore first waits
until the last stable offset has passed it.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from router.processor import StatefulProcessor
from router.runtime.errors import StateRestoreError
from unionhub.kafka.clients import committed_consumer

log = structlog.get_logger(__name__)


class StateKeys:
    """The live keys of a changelog, for the stage's state-size gauge."""

    def __init__(self) -> None:
        self._keys: set[bytes] = set()

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Track one changelog write (``None`` deletes the key)."""
        if value is None:
            self._keys.discard(key)
        else:
            self._keys.add(key)

    def clear(self) -> None:
        """Forget every key, before a full replay."""
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


async def replay_changelog(
    bootstrap: str,
    topic: str,
    processor: StatefulProcessor,
    keys: StateKeys,
    *,
    partitions: list[int],
    must_reach: dict[int, int],
    timeout_s: float,
) -> int:
    """``reset()`` the processor and ``restore()`` every committed changelog record, in order.

    ``partitions`` are the changelog's partitions; ``must_reach`` maps
    partition -> an offset the last stable offset must reach first (one past
    our last committed write). Returns the number of
    records replayed; raises :class:`StateRestoreError` if the changelog
    cannot be read within ``timeout_s``.
    """
    processor.reset()
    keys.clear()
    consumer = committed_consumer(bootstrap)
    try:
        async with asyncio.timeout(timeout_s):
            await consumer.start()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await _stable_ends(consumer, tps, must_reach)
            replayed = 0
            for tp in tps:
                replayed += await _replay_partition(consumer, tp, ends[tp], processor, keys)
            return replayed
    except TimeoutError as exc:
        raise StateRestoreError(f"changelog {topic} not replayed within {timeout_s}s") from exc
    finally:
        await consumer.stop()


async def _stable_ends(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], must_reach: dict[int, int]
) -> dict[TopicPartition, int]:
    """End (last stable) offsets, once each has passed the offset it must reach."""
    delay = 0.01
    while True:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        if all(ends[tp] >= must_reach.get(tp.partition, 0) for tp in tps):
            return ends
        # The broker is still writing our last commit's markers: a matter of milliseconds.
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def _replay_partition(
    consumer: AIOKafkaConsumer,
    tp: TopicPartition,
    end: int,
    processor: StatefulProcessor,
    keys: StateKeys,
) -> int:
    replayed = 0
    while await consumer.position(tp) < end:
        batch = await consumer.getmany(tp, timeout_ms=500)
        for message in batch.get(tp, []):
            if message.offset >= end:
                break
            if message.key is None:
                log.warning(
                    "changelog record without key skipped", topic=tp.topic, offset=message.offset
                )
                continue
            processor.restore(message.key, message.value)
            keys.apply(message.key, message.value)
            replayed += 1
    return replayed
