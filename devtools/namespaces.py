"""Dropping a run's topics: tests, the chaos run and the benchmarks share one broker and
clean up after themselves (a broker keeps open files per partition)."""

from __future__ import annotations

from core.kafka.clients import admin_client


async def drop_namespace(bootstrap: str, namespace: str) -> None:
    """Delete every topic whose name starts with ``namespace`` (a broker keeps open files
    per partition, so runs and tests that share one clean up after themselves)."""
    async with admin_client(bootstrap) as admin:
        ours = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if ours:
            await admin.delete_topics(ours)
