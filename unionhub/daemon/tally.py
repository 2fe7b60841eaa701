"""``DispatchTally``: counts dispatch events per district and event type as they are committed.

Reads every ``dispatch.<slug>`` topic and ``dispatch.triage`` without a
consumer group (it takes nothing from the district federations' readers),
from their end at start: the counters are this daemon's, since it started,
as Prometheus counters are.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from core.kafka.clients import committed_consumer
from core.kafka.topics import TopicCatalog
from schemas.shenzhen import DISTRICTS

log = structlog.get_logger(__name__)


class DispatchTally:
    """Live counts of dispatch events by (district slug or ``triage``, event type)."""

    def __init__(self, bootstrap: str, catalog: TopicCatalog, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._district_of = {catalog.dispatch(d.slug): d.slug for d in DISTRICTS}
        self._district_of[catalog.triage] = "triage"
        self._partitions = {s.name: s.partitions for s in catalog.specs()}
        self.counts: Counter[tuple[str, str]] = Counter()
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        """Connect and take the end of every dispatch partition as the starting point."""
        consumer = committed_consumer(self._bootstrap, client_id=self._client_id, group_id=None)
        await consumer.start()
        try:
            tps = [
                TopicPartition(topic, partition)
                for topic in self._district_of
                for partition in range(self._partitions.get(topic, 1))
            ]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            for tp in tps:  # resolve the positions now, not at the first fetch
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def run(self, stop: asyncio.Event) -> None:
        """Count until ``stop`` is set; broker trouble is logged and retried."""
        consumer = self._consumer
        if consumer is None:
            return
        while not stop.is_set():
            try:
                batch = await consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("dispatch tally poll failed", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
                continue
            for tp, records in batch.items():
                district = self._district_of.get(tp.topic, "unknown")
                for record in records:
                    self.counts[(district, _event_type(record.value))] += 1

    async def stop(self) -> None:
        """Close the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def _event_type(value: bytes | None) -> str:
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return "unreadable"
    kind = body.get("event_type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else "unreadable"
