"""Reading topics whole and what groups have committed: for the checker's peers, the
chaos run, the benchmarks and the tests, which all judge a run by its topics."""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from unionhub.kafka.clients import admin_client, committed_consumer
from unionhub.kafka.topics import wait_for_leaders


async def read_to_end(
    bootstrap: str, *topics: str, committed: bool = True
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topics`` up to their end offsets at call time.

    Committed records only (read_committed, as downstream readers see them),
    or with ``committed=False`` also those of aborted and open transactions
    (what the log files on disk hold). Ends when every partition's position
    reaches the end offset taken at the start, so it neither waits on a clock
    nor misses records written before the call.
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
        records: list[ConsumerRecord[bytes, bytes]] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500, max_records=10_000)
            records += [m for msgs in batch.values() for m in msgs]
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
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


async def drop_namespace(bootstrap: str, namespace: str) -> None:
    """Delete every topic whose name starts with ``namespace`` (a broker keeps open files
    per partition, so runs and tests that share one clean up after themselves)."""
    async with admin_client(bootstrap) as admin:
        ours = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if ours:
            await admin.delete_topics(ours)
