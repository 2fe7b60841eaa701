"""Reading a run's topics: every record up to the end, where groups have got, and clean-up."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from unionhub.kafka.clients import admin_client
from unionhub.kafka.topics import wait_for_leaders


async def read_all(
    bootstrap: str, topics: list[str], *, committed: bool = True
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topics`` up to their end offsets at call time.

    ``committed=False`` also returns records of aborted and open transactions
    (what a scan of the log files on disk would see).
    """
    if not topics:
        return []
    async with admin_client(bootstrap) as admin:
        await wait_for_leaders(admin, topics)
        described = await admin.describe_topics(topics)
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed" if committed else "read_uncommitted",
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[ConsumerRecord[bytes, bytes]] = []
        unread = {tp for tp in partitions if ends[tp] > 0}
        while unread:
            fetched = await consumer.getmany(*unread, timeout_ms=500)
            for records in fetched.values():
                found.extend(records)
            unread = {tp for tp in unread if await consumer.position(tp) < ends[tp]}
        return found
    finally:
        await consumer.stop()


async def past_last_records(bootstrap: str, *topics: str) -> dict[TopicPartition, int]:
    """Per partition, the offset after its last committed record: what a consumer commits.

    Not the end offset: a transaction's commit marker takes an offset no
    consumer ever commits past.
    """
    ends: dict[TopicPartition, int] = {}
    for record in await read_all(bootstrap, list(topics)):
        tp = TopicPartition(record.topic, record.partition)
        ends[tp] = max(ends.get(tp, 0), record.offset + 1)
    return ends


async def group_reached(bootstrap: str, group_id: str, targets: dict[TopicPartition, int]) -> bool:
    """Whether ``group_id`` has committed at least ``targets`` (False while it cannot tell)."""
    try:
        async with admin_client(bootstrap) as admin:
            offsets = await admin.list_consumer_group_offsets(group_id)
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return False
    return all(
        (meta.offset if (meta := offsets.get(tp)) is not None else -1) >= target
        for tp, target in targets.items()
    )


async def namespace_topics(bootstrap: str, namespace: str) -> list[str]:
    """Every topic whose name starts with ``namespace``."""
    async with admin_client(bootstrap) as admin:
        return sorted(t for t in await admin.list_topics() if t.startswith(namespace))


async def delete_namespace(bootstrap: str, namespace: str) -> None:
    """Delete every topic of ``namespace`` (a run's broker keeps a file per segment)."""
    names = await namespace_topics(bootstrap, namespace)
    if names:
        async with admin_client(bootstrap) as admin:
            await admin.delete_topics(names)
