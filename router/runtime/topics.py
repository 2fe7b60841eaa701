"""Which partitions a stage's topics have, tolerant of topics created a moment ago."""

from __future__ import annotations

import asyncio

from core.kafka.clients import admin_client


async def partitions_of(
    bootstrap: str, names: list[str], *, timeout_s: float, wait_s: float
) -> dict[str, list[int]]:
    """Partitions of each existing topic of ``names``.

    A topic created a moment ago may be unknown to the broker's metadata for a
    short while: look again for up to ``wait_s`` before calling it missing.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_s
    async with admin_client(bootstrap, timeout_s) as admin:
        while True:
            described = await admin.describe_topics(names)
            found = {
                topic["topic"]: sorted(p["partition"] for p in topic["partitions"])
                for topic in described
                if not topic.get("error_code", 0) and topic.get("partitions")
            }
            if len(found) == len(set(names)) or loop.time() > give_up:
                return found
            await asyncio.sleep(0.2)
