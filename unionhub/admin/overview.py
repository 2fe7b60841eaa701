"""What ``unionhub status`` shows, gathered from Kafka alone (no daemon needs to answer).

Connectors from the config topic and the daemons' status topic; router lag
from its consumer groups' committed offsets against the input's end offsets;
router state size from the daemons' own reports; queue depths per district
as the records each ``dispatch.<slug>`` topic holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from core.errors import KafkaUnavailableError
from core.kafka.clients import admin_client, committed_consumer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.stages import dispatch_stage_config, normalize_stage_config
from schemas.shenzhen import DISTRICTS
from unionhub.admin.statustopic import is_fresh, read_statuses
from unionhub.configstore import ConfigStore


@dataclass
class Overview:
    """A summary of the whole system, as plain data."""

    connectors: list[dict[str, Any]] = field(default_factory=list)
    router: dict[str, Any] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    daemons: list[dict[str, Any]] = field(default_factory=list)


async def gather_overview(settings: Settings) -> Overview:
    """Read everything ``unionhub status`` prints."""
    catalog = TopicCatalog(settings.namespace)
    overview = Overview()
    async with ConfigStore.for_settings(settings) as store:
        stored = await store.snapshot()
    statuses = await read_statuses(settings.kafka_bootstrap, catalog.connector_status)
    for name, connector in sorted(stored.items()):
        status = statuses.connectors.get(name)
        overview.connectors.append(
            {
                "name": name,
                "channel": connector.config.get("channel"),
                "target_state": connector.target_state.value,
                "state": status.state.value if status else "UNASSIGNED",
                "reason": status.reason if status else None,
                "last_success_at": status.last_success_at if status else None,
                "lag_s": _age_s(status.last_success_at) if status else None,
                "records": status.records if status else 0,
                "dead_letters": status.dead_letters if status else 0,
                "worker_id": status.worker_id if status else None,
            }
        )
    every_worker = sorted(statuses.workers.values(), key=lambda w: w.worker_id)
    overview.daemons = [
        {
            "worker_id": w.worker_id,
            "ready": w.ready and is_fresh(w.updated_at),
            "fresh": is_fresh(w.updated_at),
            "updated_at": w.updated_at,
        }
        for w in every_worker
    ]
    workers = [w for w in every_worker if is_fresh(w.updated_at)]
    sizes = [w.router_state_size for w in workers if w.router_state_size is not None]
    sizes_by_topic = await _depths(settings.kafka_bootstrap, catalog)
    overview.queues = {
        slug: sizes_by_topic.get(catalog.dispatch(slug), 0) for slug in [d.slug for d in DISTRICTS]
    }
    overview.queues["triage"] = sizes_by_topic.get(catalog.triage, 0)
    overview.dead_letters = {
        "intake.dlq": sizes_by_topic.get(catalog.intake_dlq, 0),
        "router.dlq": sizes_by_topic.get(catalog.router_dlq, 0),
    }
    # The router's own lag (positions against last stable offsets) when a daemon runs it;
    # else from its groups' committed offsets, where each transaction's commit marker
    # counts as one record not yet read.
    reported: dict[str, int] = {}
    for worker in workers:
        for stage_name, stage_lag in worker.stage_lag.items():
            if stage_lag is not None:
                reported[stage_name] = reported.get(stage_name, 0) + stage_lag
    lag: dict[str, int | None] = {}
    for stage in (normalize_stage_config(settings), dispatch_stage_config(settings)):
        if stage.name in reported:
            lag[stage.name] = reported[stage.name]
        else:
            lag[stage.name] = await _group_lag(
                settings.kafka_bootstrap, stage.group_id, list(stage.input_topics), catalog
            )
    overview.router = {
        "lag": lag,
        "lag_source": "daemon" if reported else "committed offsets",
        "state_size": max(sizes) if sizes else None,
    }
    return overview


async def _depths(bootstrap: str, catalog: TopicCatalog) -> dict[str, int]:
    topics = [*catalog.dispatch_topics(), catalog.intake_dlq, catalog.router_dlq]
    tps = _partitions(catalog, topics)
    consumer = committed_consumer(bootstrap)
    try:
        await consumer.start()
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
    except KafkaError as exc:
        raise KafkaUnavailableError(f"reading queue depths failed: {type(exc).__name__}") from exc
    finally:
        await consumer.stop()
    depths: dict[str, int] = {}
    for tp in tps:
        depths[tp.topic] = depths.get(tp.topic, 0) + ends[tp] - starts[tp]
    return depths


async def _group_lag(
    bootstrap: str, group_id: str, topics: list[str], catalog: TopicCatalog
) -> int | None:
    """Records of ``topics`` the group has not committed yet; None if it never committed."""
    tps = _partitions(catalog, topics)
    try:
        async with admin_client(bootstrap) as admin:
            # A fresh cluster creates its offsets topic on the first group request and
            # answers GroupCoordinatorNotAvailable meanwhile: a retriable error.
            async for attempt in AsyncRetrying(
                stop=stop_after_delay(15),
                wait=wait_exponential(multiplier=0.1, max=1),
                retry=retry_if_exception(lambda e: isinstance(e, KafkaError) and e.retriable),
                reraise=True,
            ):
                with attempt:
                    committed = await admin.list_consumer_group_offsets(group_id)
        consumer = committed_consumer(bootstrap)
        try:
            await consumer.start()
            ends = await consumer.end_offsets(tps)
        finally:
            await consumer.stop()
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"reading lag of {group_id} failed: {type(exc).__name__}"
        ) from exc
    if not committed:
        return None
    lag = 0
    for tp in tps:
        meta = committed.get(tp)
        position = meta.offset if meta is not None and meta.offset >= 0 else 0
        lag += max(0, ends[tp] - position)
    return lag


def _age_s(timestamp: str | None) -> float | None:
    """Seconds since ``timestamp`` (how far behind its upstream a connector may be)."""
    if timestamp is None:
        return None
    return round((datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds(), 1)


def _partitions(catalog: TopicCatalog, topics: list[str]) -> list[TopicPartition]:
    counts = {spec.name: spec.partitions for spec in catalog.specs()}
    return [TopicPartition(t, p) for t in topics for p in range(counts.get(t, 1))]
