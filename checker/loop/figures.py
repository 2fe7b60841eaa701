"""The federation's figures (三率 and counts), recomputed by the checker, and compared.

Computed from :class:`CaseFacts`, which come either from the checker's replay
(:func:`facts_of_truth`) or from an observed ``cases.state`` value
(:func:`facts_of_state`), so the same definitions judge both. For a period
``[start, end)`` evaluated at ``T = min(now, end)``, per district (the case's
current district) and for ``city`` (every case placed in a district):

- ``accept_rate`` 签收率: cases dispatched in the period (last dispatch or
  assignment) accepted by T / those dispatched; ``accept_on_time_rate``
  按时签收率: accepted by the deadline / accepted;
- ``resolve_rate`` 办结率: runs of the resolve clock that fell due in
  [start, T] or were resolved early in the period, resolved by T / those runs;
- ``resolve_on_time_rate`` 按时办结率: runs resolved in the period by their
  deadline / (runs resolved in the period + runs open past their deadline at T);
- ``satisfaction_rate`` 满意率: visits in the period satisfied or basically
  satisfied / visits, ``unreachable`` left out;
- ``repeat_rate`` 重复诉求率: dispatched cases with two or more reports / dispatched;
- counts: ``dispatched``, ``accepted``, ``resolved``, ``visits``, ``reopened``
  and ``returned`` in the period (a return for the district that returned it;
  one by the city desk for the city only),
  ``overdue_now`` and ``open`` at ``now`` (``open_by_age.<bucket>`` by age since
  the last dispatch); ``accept_hours_p50``/``_p90``, ``resolve_hours_p50``/``_p90``:
  working hours from dispatch to accept and from a run's start to its resolve.

A run ended by a return (never resolved; the case starts a new run where it is
assigned) counts in none of them: it is neither due nor open.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from checker.events import parse_time
from checker.loop.case import DONE, RETURNED, CaseTruth
from checker.loop.clock import RUNNING
from checker.loop.report import LoopReport
from checker.loop.rules import ACCEPT, DISSATISFIED, SATISFIED_ANSWERS
from checker.loop.workdays import WorkingDays
from schemas.shenzhen import DISTRICTS

CITY = "city"
Value = tuple[int, int] | int | float | None
Figures = dict[str, dict[str, Value]]  # scope -> figure -> value
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("<1d", timedelta(days=1)),
    ("1-3d", timedelta(days=3)),
    ("3-7d", timedelta(days=7)),
    ("7-15d", timedelta(days=15)),
    (">15d", None),
)
HOURS_SLACK = 1e-3  # hours compared within 3.6 s: the router counts in floats
_COUNTERS = (
    *("dispatched", "accepted", "accepted_on_time", "repeated", "due", "due_resolved"),
    *("resolved", "resolved_on_time", "open_overdue", "visits", "satisfied"),
    *("reopened", "returned", "overdue_now", "open"),
)


@dataclass(frozen=True)
class RunFacts:
    """One run of the resolve clock."""

    started: datetime
    due: datetime | None
    resolved: datetime | None
    abandoned: bool


@dataclass(frozen=True)
class CaseFacts:
    """What the figures need of one case."""

    district: str | None
    status: str
    dispatched_at: datetime
    sources: int
    accept_due: datetime | None
    accept_met: datetime | None
    runs: tuple[RunFacts, ...]
    visits: tuple[tuple[datetime, str], ...]
    reopenings: tuple[datetime, ...]
    returns: tuple[tuple[datetime, str], ...]  # (when, who returned it: a district or the city)
    running_dues: tuple[datetime, ...]  # deadlines of its running clocks


def facts_of_truth(case: CaseTruth) -> CaseFacts:
    """The facts of a case of the checker's replay."""
    accept = case.clocks.get(ACCEPT)
    return CaseFacts(
        case.district,
        case.status,
        case.dispatched_at,
        len(case.sources),
        accept.due if accept else None,
        accept.met if accept else None,
        tuple(RunFacts(r.started, r.due, r.resolved, r.abandoned) for r in case.runs),
        tuple(case.visits),
        tuple(case.reopenings),
        tuple(case.returns),
        tuple(c.due for c in case.clocks.values() if c.state == RUNNING and c.due is not None),
    )


def facts_of_state(value: Mapping[str, Any]) -> CaseFacts | None:
    """The facts of an observed ``unionhub.case/1`` value (None if it lacks the basics)."""
    dispatched = parse_time(value.get("dispatched_at"))
    if dispatched is None:
        return None
    clocks = _mapping(value.get("clocks"))
    accept = _mapping(clocks.get(ACCEPT))
    raw_runs = [r for r in value.get("runs") or [] if isinstance(r, dict)]
    runs = []
    for i, r in enumerate(raw_runs):
        started, resolved = parse_time(r.get("started_at")), parse_time(r.get("resolved_at"))
        last = i == len(raw_runs) - 1
        abandoned = resolved is None and (not last or value.get("status") == RETURNED)
        if started is not None:
            runs.append(RunFacts(started, parse_time(r.get("due_at")), resolved, abandoned))
    entries = [
        (str(e.get("action")), at, str(e.get("detail") or e.get("actor")))
        for e in value.get("history") or []
        if isinstance(e, dict) and (at := parse_time(e.get("at"))) is not None
    ]
    visits = tuple((at, detail) for kind, at, detail in entries if kind == "visit")
    reopen = [at for kind, at, _ in entries if kind == "reopen"]
    reopen += [at for at, answer in visits if answer == DISSATISFIED]
    running = [
        due
        for c in clocks.values()
        if isinstance(c, dict) and c.get("state") == RUNNING
        if (due := parse_time(c.get("due_at"))) is not None
    ]
    district = value.get("district")
    return CaseFacts(
        district if isinstance(district, str) else None,
        str(value.get("status")),
        dispatched,
        len(value.get("sources") or []),
        parse_time(accept.get("due_at")),
        parse_time(accept.get("met_at")),
        tuple(runs),
        visits,
        tuple(sorted(reopen)),
        tuple((at, detail) for kind, at, detail in entries if kind == "return"),
        tuple(running),
    )


def compute_figures(
    cases: Iterable[CaseFacts], start: datetime, end: datetime, now: datetime, cal: WorkingDays
) -> Figures:
    """Every figure per district slug and for ``city``, over ``[start, end)`` at ``now``."""
    t = min(now, end)
    tallies = {d.slug: _Tally() for d in DISTRICTS} | {CITY: _Tally()}
    for case in cases:
        for at, actor in case.returns:
            if start <= at < t:
                for scope in {actor, CITY} & set(tallies):
                    tallies[scope].n["returned"] += 1
        if case.district in tallies:
            for tally in (tallies[case.district], tallies[CITY]):
                tally.count(case, start, t, now, cal)
    return {scope: tally.figures() for scope, tally in tallies.items()}


class _Tally:
    def __init__(self) -> None:
        self.n = dict.fromkeys(_COUNTERS, 0)
        self.ages = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
        self.accept_hours: list[float] = []
        self.resolve_hours: list[float] = []

    def count(
        self, case: CaseFacts, start: datetime, t: datetime, now: datetime, cal: WorkingDays
    ) -> None:
        n, met = self.n, case.accept_met
        if start <= case.dispatched_at < t:
            n["dispatched"] += 1
            n["repeated"] += case.sources >= 2
            if met is not None and met <= t:
                n["accepted"] += 1
                n["accepted_on_time"] += case.accept_due is not None and met <= case.accept_due
        if met is not None and start <= met < t:
            self.accept_hours.append(_hours(cal, case.dispatched_at, met))
        for run in case.runs:
            if not run.abandoned:
                self._run(run, start, t, cal)
        n["visits"] += sum(start <= at < t and a != "unreachable" for at, a in case.visits)
        n["satisfied"] += sum(start <= at < t and a in SATISFIED_ANSWERS for at, a in case.visits)
        n["reopened"] += sum(start <= at < t for at in case.reopenings)
        if case.status not in DONE:
            n["open"] += 1
            self.ages[_bucket(now - case.dispatched_at)] += 1
            n["overdue_now"] += any(due <= now for due in case.running_dues)

    def _run(self, run: RunFacts, start: datetime, t: datetime, cal: WorkingDays) -> None:
        n, due, resolved = self.n, run.due, run.resolved
        done = resolved is not None and resolved <= t
        done_here = resolved is not None and start <= resolved <= t
        if (due is not None and start <= due <= t) or (done_here and due is not None and due > t):
            n["due"] += 1
            n["due_resolved"] += done
        if done_here and resolved is not None:
            n["resolved"] += 1
            n["resolved_on_time"] += due is not None and resolved <= due
            self.resolve_hours.append(_hours(cal, run.started, resolved))
        elif not done and due is not None and due <= t:
            n["open_overdue"] += 1

    def figures(self) -> dict[str, Value]:
        n = self.n
        out: dict[str, Value] = {
            "accept_rate": (n["accepted"], n["dispatched"]),
            "accept_on_time_rate": (n["accepted_on_time"], n["accepted"]),
            "resolve_rate": (n["due_resolved"], n["due"]),
            "resolve_on_time_rate": (n["resolved_on_time"], n["resolved"] + n["open_overdue"]),
            "satisfaction_rate": (n["satisfied"], n["visits"]),
            "repeat_rate": (n["repeated"], n["dispatched"]),
        }
        for name in ("dispatched", "accepted", "resolved", "visits", "reopened", "returned"):
            out[name] = n[name]
        out["overdue_now"], out["open"] = n["overdue_now"], n["open"]
        out |= {f"open_by_age.{name}": count for name, count in self.ages.items()}
        for which, values in (("accept", self.accept_hours), ("resolve", self.resolve_hours)):
            out[f"{which}_hours_p50"] = _quantile(values, 0.5)
            out[f"{which}_hours_p90"] = _quantile(values, 0.9)
        return out


def compare_figures(
    expected: Figures, given: Mapping[str, Mapping[str, Any]], report: LoopReport
) -> None:
    """Count in ``report`` every given (scope, figure) that differs from ``expected``.

    ``given`` holds plain numbers: ``[numerator, denominator]`` (or a dict with
    those keys) for a rate, an int for a count, hours (or null) for the
    percentiles. Scopes and figures the checker does not compute are noted,
    not counted.
    """
    for scope, values in sorted(given.items()):
        ours = expected.get(scope)
        for name, raw in sorted(values.items()):
            if ours is None or name not in ours:
                report.note(f"figure {scope}.{name}: not one the checker computes")
                continue
            report.figures_compared += 1
            if not _same(ours[name], raw):
                report.figures_wrong += 1
                report.note(f"figure {scope}.{name}: {raw!r}, expected {ours[name]!r}")


def _same(ours: Value, raw: Any) -> bool:
    if isinstance(ours, tuple):
        if isinstance(raw, Mapping):
            raw = (raw.get("numerator"), raw.get("denominator"))
        return isinstance(raw, list | tuple) and tuple(raw) == ours
    if ours is None or raw is None:
        return ours is None and raw is None
    if isinstance(ours, float) or isinstance(raw, float):
        return isinstance(raw, int | float) and math.isclose(ours, raw, abs_tol=HOURS_SLACK)
    return bool(ours == raw)


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _hours(cal: WorkingDays, a: datetime, b: datetime) -> float:
    return cal.working_time(a, b) / timedelta(hours=1)


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation at rank ``q * (n - 1)`` of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _bucket(age: timedelta) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age < limit:
            return name
    return AGE_BUCKETS[-1][0]
