"""The weekly report end to end: a simulated scenario through the real pipeline, the case
store's sink into SQLite and PostgreSQL (every topic record once, across a restart), then
``unionhub report weekly`` writing HTML and PDF, which hold none of the scenario's ID or
phone numbers in any written form (the checker's own detector), in a real CJK font; the PDF's
first two pages as PNG test artifacts."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from caseloop.calendar import WorkingDayCalendar
from caseloop.loopclock import LoopClock
from chaos.kafka import past_last_records
from chaos.scan import pii_terms
from checker.pii import KnownNumbers
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from review.report.data import gather
from review.report.week import Week
from review.sink import CaseStoreSink
from review.store import open_case_store
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.conftest import ARTIFACTS, REPO_ROOT, drop_postgres_schema
from tests.integration.pipeline_harness import Pipeline
from tests.integration.router_stage_main import reap_spawned
from tests.kafka_helpers import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
async def sims(settings: Settings) -> AsyncIterator[Simulators]:
    options = SimulatorOptions(seed=20261203, incidents=120, speed=1000.0, fault_rate=0.0)
    async with start_simulators(options) as running:
        running.release_all()
        yield running
    reap_spawned()


async def sink_to_the_end(settings: Settings, topics: TopicCatalog) -> int:
    """Run the case store's sink until it holds every committed record; rows applied."""
    store = open_case_store(settings)
    sink = CaseStoreSink(settings.kafka_bootstrap, topics, store, client_id="test.sink")
    ends = await past_last_records(settings.kafka_bootstrap, *sink.topics())
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))

    async def caught_up() -> bool:
        held = store.offsets()
        return all(held.get((tp.topic, tp.partition), 0) >= end for tp, end in ends.items())

    try:
        await eventually(caught_up, timeout_s=60)
    finally:
        stop.set()
        await task
        store.close()
    return sink.applied


def report(settings: Settings, out: Path) -> tuple[str, str]:
    """``unionhub report weekly`` as a process; the HTML and the PDF's text."""
    env = {
        **os.environ,
        "UNIONHUB_NAMESPACE": settings.namespace,
        "UNIONHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "UNIONHUB_STATE_DIR": str(settings.state_dir),
        "UNIONHUB_CASE_STORE": settings.case_store,
        "UNIONHUB_LOG_FORMAT": "json",
    }
    if settings.case_store_dsn is not None:
        env["UNIONHUB_CASE_STORE_DSN"] = settings.case_store_dsn.get_secret_value()
    argv = [sys.executable, "-m", "unionhub", "report", "weekly", "--out", str(out)]
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (html,) = out.glob("weekly-*.html")
    (pdf,) = out.glob("weekly-*.pdf")
    text = poppler("pdftotext", "-layout", str(pdf), "-")
    fonts = poppler("pdffonts", str(pdf))
    assert "Noto-Sans-CJK-SC" in fonts, fonts  # a real CJK font, embedded
    return html.read_text(encoding="utf-8"), text


def poppler(tool: str, *args: str) -> str:
    """Run one of poppler-utils' tools (Debian's package); its output."""
    path = shutil.which(tool)
    assert path is not None, f"{tool} missing: make system-deps installs poppler-utils"
    done = subprocess.run([path, *args], capture_output=True, text=True, check=True)
    return done.stdout


async def test_a_scenario_reported_weekly_from_both_stores_with_no_personal_number(
    settings: Settings, topics: TopicCatalog, sims: Simulators, tmp_path: Path, postgres_dsn: str
) -> None:
    pipeline = Pipeline(settings, tmp_path, sims)
    pipeline.start_router("only")
    pipeline.start_intake()
    checked = await pipeline.drain(live=False)
    assert checked.lost == 0
    assert await pipeline.stop_routers() == [0]
    dispatched = await read_to_end(settings.kafka_bootstrap, *topics.dispatch_topics())
    event_ids = {r.value for r in dispatched}
    known = KnownNumbers.of(pii_terms(sims))
    now = datetime.now(UTC)
    week = Week.holding(now, now, LoopClock())
    assert known

    sqlite = settings.model_copy(update={"state_dir": tmp_path / "state"})
    postgres = settings.model_copy(
        update={"case_store": "postgresql", "case_store_dsn": SecretStr(postgres_dsn)}
    )
    gathered = []
    try:
        for backend in (sqlite, postgres):
            applied = await sink_to_the_end(backend, topics)
            assert applied > len(event_ids) > 0
            # A second run resumes at the stored offsets: nothing is applied again.
            assert await sink_to_the_end(backend, topics) == 0
            store = open_case_store(backend, read_only=True)
            try:
                (rows,) = store.select("SELECT count(*) FROM events")
                assert rows[0] == len(event_ids)
            finally:
                store.close()
            out = tmp_path / f"report-{backend.case_store}"
            html, text = report(backend, out)
            store = open_case_store(backend, read_only=True)
            try:
                r = gather(store, week, WorkingDayCalendar())
                gathered.append((r.this, r.trend, r.categories, r.streets, r.employers, r.overdue))
            finally:
                store.close()
            assert "每周议" in html
            assert "督办清单" in text
            assert known.found(html) == 0, "scenario numbers in the report's HTML"
            assert known.found(text) == 0, "scenario numbers in the report's PDF"
    finally:
        drop_postgres_schema(postgres_dsn, settings.namespace)
    # The same numbers from either store.
    assert gathered[0] == gathered[1]
    assert gathered[0][0].new_cases > 0
    (pdf,) = (tmp_path / "report-sqlite").glob("*.pdf")
    assert len(pdf_pages(pdf, "report-page", 2)) == 2


def pdf_pages(pdf: Path, name: str, pages: int) -> list[Path]:
    """The PDF kept and its first ``pages`` pages as PNGs, in the test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / f"{name}.pdf")
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    poppler(
        "pdftoppm", "-png", "-r", "80", "-f", "1", "-l", str(pages), str(pdf), str(ARTIFACTS / name)
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))
