"""Latency at a steady offered load: raw record written -> its dispatch event readable.

``unionhub router run`` runs as its own process(es), laid out as in the
throughput run. A connector-like writer
sends ``rate`` records per second for ``seconds`` (a transaction every 50
ms, as an intake writer commits a page); a read_committed consumer of every
dispatch topic notes when each report's event becomes readable. A record's
latency runs from the moment its transaction began (before the connector's
own commit) to that moment. Versions the router drops (a repeat of a
version seen) have no event and are not counted. The moment each record's
normalised report becomes readable (stage 1 committed) is noted too, so the
fixed cost and the queueing of each stage read apart: ``stage1_*`` runs from
the write to the normalised report, ``stage2_*`` from there to the event.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import orjson
from aiokafka import TopicPartition

from benchmarks.data import RawRecord
from benchmarks.kafka import delete_namespace, fresh_catalog
from benchmarks.pipeline import (
    quix_argv,
    spawn,
    stage_env,
    stop,
    unionhub_argv,
    unionhub_stages,
)
from benchmarks.quix_peer import PEER_COMMIT_ENV
from core.kafka.clients import admin_client, committed_consumer, transactional_producer
from core.kafka.topics import TopicCatalog

TICK_S = 0.05


@dataclass(frozen=True)
class LatencyResult:
    """Latency figures in milliseconds over the events seen."""

    offered_per_s: int
    seconds: int
    sent: int
    measured: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    stage1_p50_ms: float = 0.0
    stage1_p99_ms: float = 0.0
    stage2_p50_ms: float = 0.0
    stage2_p99_ms: float = 0.0


async def latency(
    bootstrap: str,
    records: list[RawRecord],
    rate: int,
    seconds: int,
    *,
    processes: int = 1,
    layout: str = "split",
    peer_commit_s: float | None = None,
) -> LatencyResult:
    """Offer ``rate`` records/s for ``seconds`` to a running router; latency percentiles.

    The router runs as ``processes`` processes laid out as in the throughput
    run (:func:`benchmarks.pipeline.unionhub_stages`); with ``peer_commit_s``
    the Quix Streams peer runs instead, committing every that many seconds.
    """
    catalog = await fresh_catalog(bootstrap, "l")
    records = records[: rate * seconds]
    sent_at: dict[tuple[str, str, str], float] = {}
    seen_at: dict[tuple[str, str, str], float] = {}
    normalized_at: dict[tuple[str, str, str], float] = {}
    refs = [record.ref for record in records]
    env = stage_env(bootstrap, catalog)
    if peer_commit_s is None:
        plan = [
            (argv, {**env, "UNIONHUB_ROUTER_STAGES": stages})
            for argv, stages in zip(
                unionhub_argv(processes), unionhub_stages(processes, layout), strict=True
            )
        ]
    else:
        plan = [(argv, {**env, PEER_COMMIT_ENV: str(peer_commit_s)}) for argv in quix_argv()]
    children = [
        spawn(argv, child_env, f"{catalog.namespace}latency-{n}")
        for n, (argv, child_env) in enumerate(plan)
    ]
    reader = asyncio.create_task(read_events(bootstrap, catalog, seen_at, normalized_at))
    try:
        producer = transactional_producer(bootstrap, f"{catalog.namespace}latency-writer")
        await producer.start()
        try:
            # Warm up: the first record goes alone; the clock starts once its event is seen.
            await write_chunk(producer, catalog, records[:1], [refs[0]], sent_at)
            while refs[0] not in seen_at:
                if any(child.poll() is not None for child in children):
                    raise RuntimeError("the router exited; see .cache/bench-logs")
                await asyncio.sleep(0.05)  # polling our own reader's table
            per_tick = max(int(rate * TICK_S), 1)
            loop = asyncio.get_running_loop()
            start = loop.time()
            for n, offset in enumerate(range(1, len(records), per_tick)):
                due = start + n * TICK_S
                await asyncio.sleep(max(due - loop.time(), 0))  # the offered load's pace
                chunk = records[offset : offset + per_tick]
                await write_chunk(
                    producer, catalog, chunk, refs[offset : offset + per_tick], sent_at
                )
        finally:
            await producer.stop()
        # Let the router finish: stop once no new event arrived for 10 s.
        last_count, quiet_since = -1, time.perf_counter()
        while time.perf_counter() - quiet_since < 10 and len(seen_at) < len(sent_at):
            if len(seen_at) != last_count:
                last_count, quiet_since = len(seen_at), time.perf_counter()
            await asyncio.sleep(0.2)  # polling our own reader's table
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.to_thread(stop, children)
        await delete_namespace(bootstrap, catalog)
    latencies = sorted(
        (seen_at[ref] - sent_at[ref]) * 1000 for ref in sent_at if ref in seen_at and ref != refs[0]
    )
    if not latencies:
        raise RuntimeError("no dispatch event was seen")
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    both = [r for r in sent_at if r in seen_at and r in normalized_at and r != refs[0]]
    stage1 = [(normalized_at[r] - sent_at[r]) * 1000 for r in both]
    stage2 = [(seen_at[r] - normalized_at[r]) * 1000 for r in both]
    return LatencyResult(
        offered_per_s=rate,
        seconds=seconds,
        sent=len(sent_at),
        measured=len(latencies),
        p50_ms=statistics.median(latencies),
        p99_ms=quantiles[98],
        max_ms=latencies[-1],
        stage1_p50_ms=_quantile(stage1, 50),
        stage1_p99_ms=_quantile(stage1, 99),
        stage2_p50_ms=_quantile(stage2, 50),
        stage2_p99_ms=_quantile(stage2, 99),
    )


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def write_chunk(
    producer: object,
    catalog: TopicCatalog,
    chunk: list[RawRecord],
    refs: list[tuple[str, str, str]],
    sent_at: dict[tuple[str, str, str], float],
) -> None:
    """Write ``chunk`` in one transaction, as an intake writer does, noting when it began."""
    now = time.perf_counter()
    for ref in refs:
        sent_at.setdefault(ref, now)
    async with producer.transaction():  # type: ignore[attr-defined]
        futures = [
            await producer.send(  # type: ignore[attr-defined]
                catalog.raw(r.channel), r.value, key=r.key, headers=list(r.headers)
            )
            for r in chunk
        ]
        await asyncio.gather(*futures)


async def read_events(
    bootstrap: str,
    catalog: TopicCatalog,
    seen_at: dict[tuple[str, str, str], float],
    normalized_at: dict[tuple[str, str, str], float],
) -> None:
    """Until cancelled, note when each report's normalised record and dispatch event become
    readable (read_committed, every dispatch topic and ``router.normalized``)."""
    async with admin_client(bootstrap) as admin:
        described = await admin.describe_topics(
            [*catalog.dispatch_topics(), catalog.router_normalized]
        )
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = committed_consumer(bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.perf_counter()
            for tp, messages in batches.items():
                normalized = tp.topic == catalog.router_normalized
                for m in messages:
                    body = orjson.loads(m.value)
                    if normalized:
                        if "external_id" in body:  # a report, not a case action
                            ref = (body["channel"], body["external_id"], body["version"])
                            normalized_at.setdefault(ref, now)
                        continue
                    report = body["report"]
                    ref = (report["channel"], report["external_id"], report["version"])
                    seen_at.setdefault(ref, now)
    finally:
        await consumer.stop()
