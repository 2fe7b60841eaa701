"""Helpers shared by the connector integration tests (this module holds no tests).

Every test creates the whole topic catalogue in its own namespace; on a
shared broker thousands of partitions exhaust its file handles, so the
connector tests drop their namespace's topics when they end.
"""

from __future__ import annotations

from core.kafka.clients import admin_client
from core.settings import Settings
from tests.kafka_helpers import eventually


async def wait_for_partitions(settings: Settings, *names: str) -> None:
    """Wait until freshly created topics have every partition led, in the broker's metadata."""

    async def described() -> bool:
        async with admin_client(settings.kafka_bootstrap) as admin:
            topics = await admin.describe_topics(list(names))
        return all(
            t["error_code"] == 0
            and t["partitions"]
            and all(p["error_code"] == 0 and p["leader"] >= 0 for p in t["partitions"])
            for t in topics
        )

    await eventually(described)
