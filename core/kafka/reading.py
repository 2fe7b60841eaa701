"""Reading topics to their end, and what groups have committed.

:func:`fetch_to_end` is the one loop that reads partitions up to given end
offsets (the checkpoint, status and changelog readers, the tail, the checker
and the benchmarks all read this way); :func:`read_to_end` reads whole topics
with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from core.kafka.clients import admin_client, committed_consumer
from core.kafka.topics import wait_for_leaders

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


async def fetch_to_end(
    consumer: AIOKafkaConsumer,
    ends: Mapping[TopicPartition, int],
    *,
    timeout_ms: int = 500,
    max_records: int | None = None,
) -> AsyncIterator[list[Record]]:
    """Batches of records from the consumer's positions until each partition reaches its end.

    ``ends`` maps each assigned partition to read to the offset to stop at
    (records at or past it are not yielded). The loop ends when every position
    has reached its end, transaction markers included, so it neither waits on
    a clock nor misses a record below the ends.
    """
    pending = {tp for tp, end in ends.items() if await consumer.position(tp) < end}
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=timeout_ms, max_records=max_records)
        records = [r for tp, got in batch.items() for r in got if r.offset < ends[tp]]
        if records:
            yield records
        pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}


async def read_to_end(bootstrap: str, *topics: str, committed: bool = True) -> list[Record]:
    """Every record of ``topics`` up to their end offsets at call time.

    Committed records only (read_committed, as downstream readers see them),
    or with ``committed=False`` also those of aborted and open transactions
    (what the log files on disk hold).
    """
    if not topics:
        return []
    async with admin_client(bootstrap) as admin:
        await wait_for_leaders(admin, list(topics))
        described = await admin.describe_topics(list(topics))
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = committed_consumer(
        bootstrap,
        isolation_level="read_committed" if committed else "read_uncommitted",
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Record] = []
        async for batch in fetch_to_end(consumer, ends, max_records=10_000):
            records += batch
        return records
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group_id: str) -> dict[TopicPartition, int]:
    """The group's committed offset of each partition it has committed (empty while the
    group coordinator is not there yet: nothing committed that can be seen)."""
    try:
        async with admin_client(bootstrap) as admin:
            offsets = await admin.list_consumer_group_offsets(group_id)
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return {}
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
