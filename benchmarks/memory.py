"""Router memory with a large dedupe state, and the time to restore that state on restart.

A changelog holding ``cases`` one-report cases is written to the router's
state topic of a fresh namespace (report records cloned from normalised
reports of the scenario, each with its own external id and case). Then
``unionhub router run`` starts: the restore time runs from the process start
until the first new report's dispatch event is readable (changelog replayed,
indexes rebuilt, one record processed); the RSS is read from /proc then.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.data import RawRecord, preload
from benchmarks.kafka import delete_namespace, fresh_catalog, read_committed
from benchmarks.pipeline import spawn, stage_env, stop, unionhub_argv
from router.dedupe.engine import case_id_for
from router.dedupe.state import CaseState, ReportState, report_key
from router.normalize.errors import NormalizeError
from router.normalize.normalizer import Normalizer
from schemas.complaint import NormalizedReport
from unionhub.kafka.topics import TopicCatalog
from unionhub.settings import Settings


@dataclass(frozen=True)
class MemoryResult:
    """State size, restore time and resident memory after the restore."""

    cases: int
    changelog_mb: float
    ready_s: float
    restore_s: float
    rss_mb: float
    peak_rss_mb: float


def templates(records: list[RawRecord], limit: int = 20_000) -> list[NormalizedReport]:
    """Normalised reports of the first records (the router's own normalizer)."""
    normalizer = Normalizer(Settings().pseudonym_key.get_secret_value().encode())
    found: list[NormalizedReport] = []
    for n, record in enumerate(records[:limit]):
        try:
            envelope = normalizer.parse_envelope(record.value)
            found.append(normalizer.normalize(envelope, f"bench-0-{n}"))
        except NormalizeError:
            continue
    return found


def changelog_records(reports: list[NormalizedReport], cases: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of ``cases`` report and case state records, as the dispatch stage writes."""
    shapes: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for report in reports:
        report_model = ReportState(
            seq=0,
            first=report.model_copy(update={"summary": ""}),
            case_id="",
            versions=[report.version],
            latest_version_key=report.version_key,
        )
        case_model = CaseState(case_id="", dispatch_seq=0, placement=report.placement, sources=[])
        shapes.append((report_model.model_dump(mode="json"), case_model.model_dump(mode="json")))
    out: list[tuple[bytes, bytes]] = []
    for seq in range(cases):
        state, case = shapes[seq % len(shapes)]
        first: dict[str, Any] = dict(state["first"])
        external_id = f"{first['external_id']}-m{seq}"
        first["external_id"] = external_id
        case_id = case_id_for(first["channel"], external_id)
        report_state = dict(state, seq=seq, first=first, case_id=case_id)
        case_state = dict(
            case,
            case_id=case_id,
            dispatch_seq=seq,
            sources=[{"channel": first["channel"], "external_id": external_id}],
        )
        out.append((report_key(first["channel"], external_id).encode(), orjson.dumps(report_state)))
        out.append((f"c/{case_id}".encode(), orjson.dumps(case_state)))
    return out


def _write_changelog(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    from confluent_kafka import Producer  # type: ignore[import-untyped]

    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 20}
    )
    for key, value in records:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(300)


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def memory_and_restore(bootstrap: str, records: list[RawRecord], cases: int) -> MemoryResult:
    """Write a ``cases``-case changelog, start the router, time its restore, read its RSS."""
    catalog: TopicCatalog = await fresh_catalog(bootstrap, "m")
    try:
        state = await asyncio.to_thread(changelog_records, templates(records), cases)
        size_mb = sum(len(k) + len(v) for k, v in state) / 1e6
        await asyncio.to_thread(_write_changelog, bootstrap, catalog.router_state, state)
        del state
        probe = records[-1]
        started = time.perf_counter()
        process = spawn(
            unionhub_argv()[0], stage_env(bootstrap, catalog), f"{catalog.namespace}memory"
        )
        try:
            ready = await _wait_ready(catalog, process)
            ready_s = ready - started
            await asyncio.to_thread(
                preload, bootstrap, catalog, [probe], f"{catalog.namespace}probe"
            )
            give_up = time.perf_counter() + 900
            while not await read_committed(bootstrap, *catalog.dispatch_topics()):
                if process.poll() is not None or time.perf_counter() > give_up:
                    raise RuntimeError("the router gave no event; see .cache/bench-logs")
                await asyncio.sleep(0.1)  # polling the broker for the probe's event
            restore_s = time.perf_counter() - started
            rss, peak = _rss_mb(process.pid)
        finally:
            await asyncio.to_thread(stop, [process])
    finally:
        await delete_namespace(bootstrap, catalog)
    return MemoryResult(cases, size_mb, ready_s, restore_s, rss, peak)


async def _wait_ready(catalog: TopicCatalog, process: Any) -> float:
    """Perf-counter time at which the router logged its dispatch stage ready."""
    from benchmarks.pipeline import log_path

    log = log_path(f"{catalog.namespace}memory")
    give_up = time.perf_counter() + 900
    while True:
        if process.poll() is not None or time.perf_counter() > give_up:
            raise RuntimeError(f"the router did not get ready; see {log}")
        for line in log.read_text(errors="replace").splitlines():
            if '"partitions ready"' in line and '"stage":"dispatch"' in line:
                return time.perf_counter()
        await asyncio.sleep(0.05)  # polling the router's log: there is no other signal
