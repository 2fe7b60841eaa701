"""Replaying a stage's compacted changelog into its processor.

The changelog is written only inside the stage's transactions, so reading it
read_committed up to its last stable offset yields exactly the committed
state. A transaction's commit returns before the broker has written its
markers; a replay that must include our own last commit therefore first waits
until the last stable offset has passed it.

A processor with a local store (:class:`router.processor.CheckpointedProcessor`)
is brought up to date from its checkpoint: only the tail is replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from core.kafka.clients import committed_consumer
from core.kafka.reading import fetch_to_end
from router.processor import CheckpointedProcessor, StatefulProcessor, checkpointed
from router.runtime.errors import StateRestoreError

log = structlog.get_logger(__name__)

# Replayed records a local store applies per sqlite transaction (a few fetched batches).
REPLAY_FLUSH_RECORDS = 50_000
_FETCH_BYTES = 8 * 1024 * 1024


class StateKeys:
    """The live keys of a changelog, for the stage's state-size gauge.

    A processor with a local store counts its own keys (:meth:`count_by`);
    otherwise the keys are tracked here, in memory.
    """

    def __init__(self) -> None:
        self._keys: set[bytes] = set()
        self._count: Callable[[], int] | None = None

    def count_by(self, count: Callable[[], int]) -> None:
        """Take the size from ``count`` from now on, and stop tracking keys here."""
        self._count = count
        self._keys.clear()

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Track one changelog write (``None`` deletes the key)."""
        if self._count is not None:
            return
        if value is None:
            self._keys.discard(key)
        else:
            self._keys.add(key)

    def clear(self) -> None:
        """Forget every key, before a full replay."""
        self._keys.clear()

    def __len__(self) -> int:
        return self._count() if self._count is not None else len(self._keys)


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
    """Bring the processor's state up to every committed changelog record, in order.

    A :class:`CheckpointedProcessor` whose checkpoint lies within the log gets
    only the records after it (the tail), every :data:`REPLAY_FLUSH_RECORDS`
    records followed by ``committed`` with the offset reached; any other processor, or a
    checkpoint that is missing, before the log start or beyond the log end
    (another log), is ``reset()`` and gets every record. ``partitions`` are the
    changelog's partitions; ``must_reach`` maps partition -> an offset the last
    stable offset must reach first (one past our last committed write).
    Returns the number of records replayed; raises :class:`StateRestoreError`
    if the changelog cannot be read for ``timeout_s`` (each fetched batch
    extends the deadline: a long log takes as long as it takes).
    """
    store = checkpointed(processor)
    # Bigger fetches than the default 1 MB: a full replay is one long sequential read.
    consumer = committed_consumer(bootstrap, max_partition_fetch_bytes=_FETCH_BYTES)
    try:
        async with asyncio.timeout(timeout_s) as deadline:
            await consumer.start()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            ends = await _stable_ends(consumer, tps, must_reach)
            starts = await _tail_starts(consumer, tps, ends, store)
            if starts is None:
                processor.reset()
                keys.clear()
                await consumer.seek_to_beginning(*tps)
            else:
                for tp in tps:
                    consumer.seek(tp, starts[tp])
            replayed = 0
            loop = asyncio.get_running_loop()

            def progressed() -> None:
                deadline.reschedule(loop.time() + timeout_s)

            for tp in tps:
                replayed += await _replay_partition(
                    consumer, tp, ends[tp], processor, keys, store, progressed
                )
            if store is not None:
                store.replayed()
            log.info(
                "changelog replayed",
                topic=topic,
                mode="full" if starts is None else "tail",
                records=replayed,
            )
            return replayed
    except TimeoutError as exc:
        raise StateRestoreError(f"changelog {topic} not replayed within {timeout_s}s") from exc
    finally:
        await consumer.stop()


async def _tail_starts(
    consumer: AIOKafkaConsumer,
    tps: list[TopicPartition],
    ends: dict[TopicPartition, int],
    store: CheckpointedProcessor | None,
) -> dict[TopicPartition, int] | None:
    """Where the tail after the store's checkpoint starts; None if it must all be replayed."""
    if store is None:
        return None
    checkpoint = store.checkpoint()
    if checkpoint is None:
        return None
    begins: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
    starts = {tp: checkpoint.get(tp.partition, 0) for tp in tps}
    if all(begins[tp] <= starts[tp] <= ends[tp] for tp in tps):
        return starts
    log.warning(
        "state store checkpoint outside the changelog; replaying it all", topic=tps[0].topic
    )
    return None


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
    store: CheckpointedProcessor | None,
    progressed: Callable[[], None],
) -> int:
    replayed = 0
    unflushed = 0
    async for records in fetch_to_end(consumer, {tp: end}, timeout_ms=500):
        progressed()
        for record in records:
            if record.key is None:
                log.warning(
                    "changelog record without key skipped", topic=tp.topic, offset=record.offset
                )
                continue
            processor.restore(record.key, record.value)
            keys.apply(record.key, record.value)
            replayed += 1
            unflushed += 1
        if store is not None and unflushed >= REPLAY_FLUSH_RECORDS:
            # One sqlite transaction per few batches.
            store.committed({tp.partition: records[-1].offset + 1})
            unflushed = 0
    if store is not None:
        store.committed({tp.partition: end})  # past trailing transaction markers too
    return replayed
