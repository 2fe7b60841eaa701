"""The whole pipeline against the simulators' ground truth (issue 5's "Done means").

Simulators run in the test process (faults on, default rate); connectors and
routers run as real processes (``python -m unionhub intake run`` / ``router
run``) against the shared broker. Each test waits for the pipeline to drain
(on conditions, bounded by a generous timeout), prints the checker's table
(``pytest -s`` shows it) and asserts the figures: nothing lost, nothing twice,
every case in its district or triage reason, cases and alerts as the truth
says, no personal number in clear in any public topic or any log line.

The one-router and two-router runs read after ``release_all()`` and must give
the settled view exactly; the kill run reads while the live hour is released
(so records keep flowing while routers die) and is judged as a live run.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.scan import pii_terms
from checker import CheckReport, read_observed
from checker.events import parse_event
from checker.pii import KnownNumbers
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.stages import normalize_stage_config
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.integration.pipeline_harness import Pipeline
from tests.integration.router_stage_main import Tail, group_state, reap_spawned
from tests.kafka_helpers import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SEED = 20261129
INCIDENTS = 400
SPEED = 1000.0  # the live hour lasts 3.6 s
LIVE_SPEED = 100.0  # the live hour lasts 36 s: records keep coming while routers die


@pytest.fixture(autouse=True)
async def _clean_up(settings: Settings) -> AsyncIterator[None]:
    """Stray processes killed, before the ``settings`` fixture (a dependency, so torn down
    after this) deletes this test's topics."""
    yield
    reap_spawned()


@pytest.fixture
async def sims() -> AsyncIterator[Simulators]:
    """A ~400-incident scenario with faults at the default rate, everything released."""
    options = SimulatorOptions(seed=SEED, incidents=INCIDENTS, speed=SPEED)
    async with start_simulators(options) as running:
        running.release_all()
        yield running


def _assert_matches_truth(report: CheckReport, title: str) -> None:
    print(f"\n=== {title} ===\n{report.format()}")
    assert report.versions_expected > 0
    assert report.lost == 0
    assert report.dispatched_twice == 0
    assert report.unexpected_versions == 0
    assert report.misrouted_cases == 0
    assert (report.wrongly_merged, report.wrongly_split) == (0, 0)
    assert report.wrong_event_types == 0
    assert report.alerts_expected > 0
    assert (report.alerts_missing, report.alerts_extra, report.alerts_wrong) == (0, 0, 0)
    assert report.dead_letters_found == report.dead_letters_expected > 0
    assert report.dead_letters_unexpected == 0
    assert report.pii_leaks == 0
    assert report.malformed_messages == 0
    assert report.ok


def _assert_faults_were_injected(sims: Simulators) -> None:
    faults = sims.fault_counts()
    print(f"faults injected: {dict(sorted(faults.items()))}")
    assert sum(faults.values()) > 0, "the run went through upstream faults"


def _assert_no_pii_in_logs(pipeline: Pipeline) -> None:
    text = pipeline.log_text()
    assert text, "the processes logged something"
    leaked = KnownNumbers.of(pii_terms(pipeline.sims)).found(text)
    assert leaked == 0, f"{leaked} scenario ID/phone numbers in clear (in some form) in the logs"


async def test_pipeline_matches_the_ground_truth(
    settings: Settings, topics: TopicCatalog, sims: Simulators, tmp_path: Path
) -> None:
    pipeline = Pipeline(settings, tmp_path, sims)
    pipeline.start_router("only")
    pipeline.start_intake()
    report = await pipeline.drain(live=False)
    assert await pipeline.stop_routers() == [0]
    _assert_matches_truth(report, "one router process (settled view)")
    _assert_faults_were_injected(pipeline.sims)
    _assert_no_pii_in_logs(pipeline)


async def _event_ids(settings: Settings) -> set[str]:
    """Ids of the dispatch events committed so far (up to the last stable offsets)."""
    observed = await read_observed(settings.kafka_bootstrap, settings.namespace)
    return {e.event_id for m in observed.dispatch if (e := parse_event(m)) is not None}


async def _person_keys(settings: Settings, sims: Simulators) -> dict[tuple[str, str], set[str]]:
    """Per person identity of the truth (ID number, phone), the person_keys and event ids."""
    reports = sims.scenario.truth.reports
    observed = await read_observed(settings.kafka_bootstrap, settings.namespace)
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for message in observed.dispatch:
        event = parse_event(message)
        assert event is not None
        truth = reports.get(event.ref)
        if truth is not None and (truth.id_number or truth.phone) and event.person_key:
            keys[(truth.id_number or "", truth.phone or "")].add(event.person_key)
    return keys


@pytest.fixture
async def live_sims() -> AsyncIterator[Simulators]:
    """The same scenario served live: its live hour released over 36 s, not all at once.

    Some versions are published hours later (petition corrections, late provincial
    petitions); the test releases them with ``release_all()`` after its last kill.
    """
    options = SimulatorOptions(seed=SEED, incidents=INCIDENTS, speed=LIVE_SPEED)
    async with start_simulators(options) as running:
        yield running


def _kill_points(sims: Simulators, rng: random.Random) -> list[int]:
    """Dispatched-event counts to kill at: one in the backlog burst, two in the live hour."""
    scenario = sims.scenario
    settled = scenario.settled_versions()
    backlog = sum(1 for v in settled if v.visible_at <= scenario.anchor)
    live = sum(1 for v in settled if scenario.anchor < v.visible_at <= scenario.live_end)
    return [
        rng.randint(backlog // 10, backlog * 8 // 10),
        backlog + rng.randint(live // 10, live * 4 // 10),
        backlog + rng.randint(live * 5 // 10, live * 8 // 10),
    ]


async def test_pipeline_matches_the_ground_truth_with_the_router_sigkilled_three_times(
    settings: Settings, topics: TopicCatalog, live_sims: Simulators, tmp_path: Path
) -> None:
    sims = live_sims
    rng = random.Random(SEED)  # "random" kill moments, the same every run
    kill_after = _kill_points(sims, rng)
    total = len(sims.scenario.expected_versions())
    pipeline = Pipeline(settings, tmp_path, sims)
    pipeline.start_router("r0")
    pipeline.start_intake()
    snapshots: list[set[str]] = []
    async with Tail(settings.kafka_bootstrap, *topics.dispatch_topics()) as dispatched:
        for kill, threshold in enumerate(kill_after):
            await eventually(dispatched.at_least(threshold), timeout_s=180)
            assert dispatched.count() < total, "records must still be flowing when it dies"
            await pipeline.kill_router(f"r{kill}")
            # Read now: all of it was committed by the processes killed so far.
            snapshots.append(await _event_ids(settings))
            pipeline.start_router(f"r{kill + 1}")
    sims.release_all()
    report = await pipeline.drain(live=True)
    assert await pipeline.stop_routers() == [0]
    _assert_matches_truth(report, f"live run, router SIGKILLed at {kill_after}")
    _assert_faults_were_injected(pipeline.sims)
    _assert_no_pii_in_logs(pipeline)
    # person_key is stable per person across the restarts: one key per identity...
    keys = await _person_keys(settings, sims)
    assert keys
    assert {identity: len(k) for identity, k in keys.items() if len(k) != 1} == {}
    # ...including persons with events dispatched before and after a restart.
    everything = await _event_ids(settings)
    straddling = set()
    for before in snapshots:
        assert before, "some events were committed before each kill"
        assert everything - before, "and some after it"
        straddling |= await _identities_spanning(settings, sims, before, everything - before)
    print(f"persons with events dispatched both before and after a restart: {len(straddling)}")
    assert straddling


async def _identities_spanning(
    settings: Settings, sims: Simulators, early: set[str], late: set[str]
) -> set[tuple[str, str]]:
    """Persons with an event in ``early`` and one in ``late`` (their keys agree: checked above)."""
    reports = sims.scenario.truth.reports
    observed = await read_observed(settings.kafka_bootstrap, settings.namespace)
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for message in observed.dispatch:
        event = parse_event(message)
        assert event is not None
        truth = reports.get(event.ref)
        if truth is None or not (truth.id_number or truth.phone) or not event.person_key:
            continue
        identity = (truth.id_number or "", truth.phone or "")
        if event.event_id in early:
            seen[identity].add("early")
        if event.event_id in late:
            seen[identity].add("late")
    return {identity for identity, marks in seen.items() if marks == {"early", "late"}}


async def test_pipeline_matches_the_ground_truth_with_two_router_processes(
    settings: Settings, topics: TopicCatalog, sims: Simulators, tmp_path: Path
) -> None:
    pipeline = Pipeline(settings, tmp_path, sims)
    pipeline.start_router("a")
    pipeline.start_router("b")
    normalize_group = normalize_stage_config(settings).group_id

    async def both_share_stage_one() -> bool:
        return await group_state(settings.kafka_bootstrap, normalize_group) == ("Stable", 2)

    await eventually(both_share_stage_one, timeout_s=60)
    pipeline.start_intake()
    report = await pipeline.drain(live=False)
    assert await group_state(settings.kafka_bootstrap, normalize_group) == ("Stable", 2)
    assert await pipeline.stop_routers() == [0, 0]
    _assert_matches_truth(report, "two router processes (settled view)")
    _assert_faults_were_injected(pipeline.sims)
    _assert_no_pii_in_logs(pipeline)
