"""A run's topics: where their last records are, where groups have got, which exist."""

from __future__ import annotations

from aiokafka import TopicPartition

from core.kafka.clients import admin_client
from core.kafka.reading import committed_offsets, read_to_end


async def past_last_records(bootstrap: str, *topics: str) -> dict[TopicPartition, int]:
    """Per partition, the offset after its last committed record: what a consumer commits.

    Not the end offset: a transaction's commit marker takes an offset no
    consumer ever commits past.
    """
    ends: dict[TopicPartition, int] = {}
    for record in await read_to_end(bootstrap, *topics):
        tp = TopicPartition(record.topic, record.partition)
        ends[tp] = max(ends.get(tp, 0), record.offset + 1)
    return ends


async def group_reached(bootstrap: str, group_id: str, targets: dict[TopicPartition, int]) -> bool:
    """Whether ``group_id`` has committed at least ``targets`` (False while it cannot tell)."""
    committed = await committed_offsets(bootstrap, group_id)
    return all(committed.get(tp, -1) >= target for tp, target in targets.items())


async def namespace_topics(bootstrap: str, namespace: str) -> list[str]:
    """Every topic whose name starts with ``namespace``."""
    async with admin_client(bootstrap) as admin:
        return sorted(t for t in await admin.list_topics() if t.startswith(namespace))
