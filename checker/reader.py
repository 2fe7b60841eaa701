"""Reading a namespace's public topics the way a downstream reader does (read_committed)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import TopicPartition

from checker.expectations import TRIAGE
from checker.observed import Message, Observed
from core.errors import KafkaSetupError
from core.kafka.clients import admin_client, committed_consumer
from core.kafka.reading import fetch_to_end
from core.kafka.topics import TopicCatalog
from schemas.shenzhen import DISTRICTS


def dispatch_targets(catalog: TopicCatalog) -> dict[str, str]:
    """``dispatch.*`` topic name -> district slug, or ``triage`` for the triage queue."""
    targets = {catalog.dispatch(d.slug): d.slug for d in DISTRICTS}
    targets[catalog.triage] = TRIAGE
    return targets


async def read_observed(bootstrap: str, namespace: str) -> Observed:
    """Every committed message of ``dispatch.*``, ``alerts.risk`` and both dead-letter topics.

    Reads each partition from the beginning up to its last stable offset taken
    at the start, so it ends without waiting on a clock.
    """
    catalog = TopicCatalog(namespace)
    targets = dispatch_targets(catalog)
    observed = Observed()
    lists = dict.fromkeys(targets, observed.dispatch)
    lists[catalog.alerts] = observed.alerts
    lists[catalog.intake_dlq] = observed.dead_letters
    lists[catalog.router_dlq] = observed.dead_letters
    records = await read_committed(bootstrap, list(lists))
    for record in records:
        lists[record.topic].append(
            Message.decode(
                record.topic,
                record.partition,
                record.offset,
                record.value,
                targets.get(record.topic),
            )
        )
    return observed


async def read_committed(bootstrap: str, topics: list[str]) -> list[_Record]:
    """Committed records of ``topics`` up to the end offsets at call time, per-partition order."""
    async with admin_client(bootstrap) as admin:
        missing = sorted(set(topics) - set(await admin.list_topics()))
        if missing:
            raise KafkaSetupError(f"missing topics {', '.join(missing)}: wrong namespace?")
        described = await admin.describe_topics(topics)
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = committed_consumer(bootstrap)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[_Record] = []
        async for batch in fetch_to_end(consumer, ends):
            records += [_Record(m.topic, m.partition, m.offset, m.value) for m in batch]
        records.sort(key=lambda r: (r.topic, r.partition, r.offset))
        return records
    finally:
        await consumer.stop()


@dataclass(frozen=True, slots=True)
class _Record:
    """The parts of a consumer record the checker keeps."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
