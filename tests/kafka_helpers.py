"""Test helpers that read topics the way downstream readers do (read_committed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import ConsumerRecord, TopicPartition

from unionhub.kafka.clients import admin_client, committed_consumer
from unionhub.kafka.topics import wait_for_leaders


async def read_to_end(bootstrap: str, *topics: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every committed record of ``topics`` up to their last stable offsets at call time.

    Ends when the position of every partition reaches the end offset taken at
    the start, so it neither waits on a clock nor misses records committed
    before the call.
    """
    async with admin_client(bootstrap) as admin:
        await wait_for_leaders(admin, list(topics))
        described = await admin.describe_topics(list(topics))
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = committed_consumer(bootstrap)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500)
            records += [m for msgs in batch.values() for m in msgs]
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def eventually(
    condition: Callable[[], Awaitable[bool]], timeout_s: float = 30.0, every_s: float = 0.1
) -> None:
    """Wait until ``condition()`` holds; fail the test with a clear message if it never does.

    For state that a broker or a daemon reaches asynchronously with no event to
    wait on; the condition, not the clock, decides when the test goes on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition {condition.__name__} not met within {timeout_s}s")
        await asyncio.sleep(every_s)
