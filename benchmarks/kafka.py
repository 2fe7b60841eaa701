"""The benchmark's own broker, fresh namespaces, and how far a consumer group has got."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from core.kafka.clients import admin_client, committed_consumer
from core.kafka.reading import fetch_to_end
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from devtools.broker import LocalBroker

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_BOOTSTRAP = "127.0.0.1:39092"


def bench_settings(bootstrap: str = BENCH_BOOTSTRAP) -> Settings:
    """Settings of a benchmark run: its own broker port and state dir under ``.cache``."""
    return Settings(
        kafka_bootstrap=bootstrap,
        state_dir=REPO_ROOT / ".cache" / "bench-state",
        kafka_heap="1g",
        log_format="json",
    )


@asynccontextmanager
async def bench_broker(settings: Settings) -> AsyncIterator[str]:
    """The benchmark's broker, started for the block (and stopped after, if started here)."""
    broker = LocalBroker(settings)
    started = await broker.up(timeout_s=120)
    try:
        yield settings.kafka_bootstrap
    finally:
        if started:
            await broker.down()


async def fresh_catalog(bootstrap: str, label: str) -> TopicCatalog:
    """A new namespace with every unionhub topic created in it."""
    catalog = TopicCatalog(f"b{label}{uuid.uuid4().hex[:6]}.")
    async with admin_client(bootstrap) as admin:
        await ensure_topics(admin, catalog.specs())
    return catalog


async def delete_namespace(bootstrap: str, catalog: TopicCatalog) -> None:
    """Delete every topic of ``catalog``'s namespace (the broker keeps files open per partition).

    Quix Streams names its changelog topics after the consumer group, which
    holds the namespace: those go too.
    """
    async with admin_client(bootstrap) as admin:
        names = [t for t in await admin.list_topics() if catalog.namespace in t]
        if names:
            await admin.delete_topics(names)


class Progress:
    """End offsets of topics and committed offsets of groups, polled by the benchmark."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._committed = committed_consumer(bootstrap, group_id=None)
        self._uncommitted = committed_consumer(
            bootstrap, group_id=None, isolation_level="read_uncommitted"
        )
        self._exit = AsyncExitStack()
        self._admin: AIOKafkaAdminClient | None = None
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def __aenter__(self) -> Progress:
        await self._committed.start()
        await self._uncommitted.start()
        self._admin = await self._exit.enter_async_context(admin_client(self._bootstrap))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._committed.stop()
        await self._uncommitted.stop()
        await self._exit.aclose()

    @property
    def admin(self) -> AIOKafkaAdminClient:
        """The started admin client (inside ``async with``)."""
        if self._admin is None:
            raise RuntimeError("Progress is used outside its async with block")
        return self._admin

    async def partitions(self, *topics: str) -> list[TopicPartition]:
        """Every partition of ``topics``."""
        found: list[TopicPartition] = []
        for topic in topics:
            if topic not in self._partitions:
                described = await self.admin.describe_topics([topic])
                parts = sorted(p["partition"] for p in described[0]["partitions"])
                self._partitions[topic] = [TopicPartition(topic, p) for p in parts]
            found += self._partitions[topic]
        return found

    async def written(self, *topics: str) -> int:
        """Records written to ``topics`` so far, committed or not (high watermarks)."""
        tps = await self.partitions(*topics)
        ends = await self._uncommitted.end_offsets(tps)
        return sum(ends.values())

    async def last_records(self, *topics: str) -> dict[TopicPartition, int]:
        """One past the last committed record of each partition of ``topics`` (0 if none).

        The end offset is not it: transaction markers follow the last record,
        one per transaction that wrote to the partition, and no group commits
        past them. Meant for topics nobody writes to any more.
        """
        tps = await self.partitions(*topics)
        ends = await self._committed.end_offsets(tps)
        found: dict[TopicPartition, int] = {}
        for tp in tps:
            found[tp] = 0
            if ends[tp] == 0:
                continue
            self._committed.assign([tp])
            self._committed.seek(tp, max(ends[tp] - 2000, 0))
            async for batch in fetch_to_end(self._committed, {tp: ends[tp]}, max_records=5000):
                found[tp] = batch[-1].offset + 1
        self._committed.assign([])
        return found

    async def group_done(self, group: str, targets: dict[TopicPartition, int]) -> bool:
        """Whether ``group`` has committed at least ``targets`` (see :meth:`last_records`)."""
        offsets = await self.admin.list_consumer_group_offsets(group, partitions=list(targets))
        for tp, target in targets.items():
            meta = offsets.get(tp)
            committed = meta.offset if meta is not None else -1
            if target > 0 and committed < target:
                return False
        return True
