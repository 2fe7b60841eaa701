"""Router memory with a large dedupe state, and the time to restore that state.

A changelog holding ``cases`` one-report cases is written to the router's
state topic of a fresh namespace (report records cloned from normalised
reports of the scenario, each with its own external id and case, in the
compact value format of :mod:`router.dispatch.state.codec`). Then ``unionhub router
run`` starts twice:

* COLD: no local store yet, so the dispatch stage replays the whole changelog
  into a new sqlite store; timed from the process start until a first probe
  report's dispatch event is readable;
* WARM: that process is stopped (SIGTERM) and started again; it opens its store,
  replays only the changelog tail after the store's checkpoint, and the time
  runs until a second probe's event is readable (the issue's "restore on
  restart").

RSS (and the peak, VmHWM) is read from /proc after each probe's event.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.data import RawRecord, preload
from benchmarks.kafka import REPO_ROOT, delete_namespace, fresh_catalog
from benchmarks.pipeline import spawn, stage_env, stop, unionhub_argv
from core.kafka.clients import confluent_producer
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.dispatch.engine import case_id_for
from router.dispatch.state.codec import CaseState, FirstVersion, StoredReport
from router.dispatch.state.keys import report_key
from router.errors import NormalizeError
from router.normalize.normalizer import Normalizer
from schemas.complaint import NormalizedReport
from schemas.dispatch import SourceRef


@dataclass(frozen=True)
class MemoryResult:
    """State size, restore times and resident memory (``restore_s`` / ``ready_s``: warm)."""

    cases: int
    changelog_mb: float
    ready_s: float
    restore_s: float
    rss_mb: float
    peak_rss_mb: float
    cold_ready_s: float = 0.0
    cold_restore_s: float = 0.0
    cold_rss_mb: float = 0.0
    cold_peak_rss_mb: float = 0.0
    store_mb: float = 0.0


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


def changelog_records(reports: list[NormalizedReport], cases: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of ``cases`` report and case state records, as the dispatch stage writes.

    Generated lazily: a million cases are 1.4 GB of records.
    """
    shapes = [
        (FirstVersion.of(report).raw, report.version, report.version_key, report.placement)
        for report in reports
    ]
    for seq in range(cases):
        raw, version, version_key, placement = shapes[seq % len(shapes)]
        external_id = f"{raw['external_id']}-m{seq}"
        first = FirstVersion(dict(raw, external_id=external_id))
        case_id = case_id_for(raw["channel"], external_id)
        stored = StoredReport(seq, case_id, [version], version_key, first)
        case = CaseState(
            case_id, seq, placement, [SourceRef(channel=first.channel, external_id=external_id)]
        )
        yield report_key(raw["channel"], external_id).encode(), stored.encode()
        yield f"c/{case_id}".encode(), case.encode()


def _write_changelog(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]]) -> float:
    """Write ``records``; returns their size in MB (keys and values)."""
    producer = confluent_producer(
        bootstrap, {"enable.idempotence": True, "acks": "all", "linger.ms": 20}
    )
    size = 0
    for key, value in records:
        size += len(key) + len(value)
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(300)
    return size / 1e6


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def memory_and_restore(bootstrap: str, records: list[RawRecord], cases: int) -> MemoryResult:
    """Write a ``cases``-case changelog; time a cold start and a warm restart; read the RSS."""
    catalog: TopicCatalog = await fresh_catalog(bootstrap, "m")
    store_root = REPO_ROOT / ".cache" / "bench-state" / "router" / f"{catalog.namespace}dispatch"
    try:
        found = templates(records)
        size_mb = await asyncio.to_thread(
            _write_changelog, bootstrap, catalog.router_state, changelog_records(found, cases)
        )
        cold_probe, warm_probe = _probes(records)
        cold = await _start_and_probe(bootstrap, catalog, cold_probe, "cold")
        warm = await _start_and_probe(bootstrap, catalog, warm_probe, "warm")
        store_mb = sum(f.stat().st_size for f in store_root.rglob("*") if f.is_file()) / 1e6
    finally:
        await delete_namespace(bootstrap, catalog)
        shutil.rmtree(store_root, ignore_errors=True)
    return MemoryResult(
        cases,
        size_mb,
        ready_s=warm.ready_s,
        restore_s=warm.first_event_s,
        rss_mb=max(cold.rss_mb, warm.rss_mb),
        peak_rss_mb=max(cold.peak_rss_mb, warm.peak_rss_mb),
        cold_ready_s=cold.ready_s,
        cold_restore_s=cold.first_event_s,
        cold_rss_mb=cold.rss_mb,
        cold_peak_rss_mb=cold.peak_rss_mb,
        store_mb=store_mb,
    )


@dataclass(frozen=True)
class _Start:
    ready_s: float
    first_event_s: float
    rss_mb: float
    peak_rss_mb: float


def _probes(records: list[RawRecord]) -> tuple[RawRecord, RawRecord]:
    """Two raw records of distinct reports that normalise (so each yields a dispatch event)."""
    normalizer = Normalizer(Settings().pseudonym_key.get_secret_value().encode())
    found: dict[str, RawRecord] = {}
    for record in reversed(records):
        try:
            report = normalizer.normalize(normalizer.parse_envelope(record.value), "probe-0-0")
        except NormalizeError:
            continue
        found.setdefault(f"{report.channel}/{report.external_id}", record)
        if len(found) == 2:
            first, second = found.values()
            return first, second
    raise RuntimeError("the scenario has no two normalisable records to probe with")


async def _start_and_probe(
    bootstrap: str, catalog: TopicCatalog, probe: RawRecord, name: str
) -> _Start:
    """Start the router, time it to ready and to the probe's first event, read its RSS, stop it."""
    before = len(await read_to_end(bootstrap, *catalog.dispatch_topics()))
    log_name = f"{catalog.namespace}memory-{name}"
    started = time.perf_counter()
    process = spawn(unionhub_argv()[0], stage_env(bootstrap, catalog), log_name)
    try:
        ready = await _wait_ready(log_name, process) - started
        await asyncio.to_thread(
            preload, bootstrap, catalog, [probe], f"{catalog.namespace}probe-{name}"
        )
        give_up = time.perf_counter() + 900
        while len(await read_to_end(bootstrap, *catalog.dispatch_topics())) <= before:
            if process.poll() is not None or time.perf_counter() > give_up:
                raise RuntimeError("the router gave no event; see .cache/bench-logs")
            await asyncio.sleep(0.1)  # polling the broker for the probe's event
        first_event = time.perf_counter() - started
        rss, peak = _rss_mb(process.pid)
    finally:
        await asyncio.to_thread(stop, [process])
    return _Start(ready, first_event, rss, peak)


async def _wait_ready(log_name: str, process: Any) -> float:
    """Perf-counter time at which the router logged its dispatch stage ready."""
    from benchmarks.pipeline import log_path

    log = log_path(log_name)
    give_up = time.perf_counter() + 900
    while True:
        if process.poll() is not None or time.perf_counter() > give_up:
            raise RuntimeError(f"the router did not get ready; see {log}")
        for line in log.read_text(errors="replace").splitlines():
            if '"partitions ready"' in line and '"stage":"dispatch"' in line:
                return time.perf_counter()
        await asyncio.sleep(0.05)  # polling the router's log: there is no other signal
