"""The federation's figures (三率 and the rest), computed from case states only.

For a period ``P = [start, end)`` evaluated at ``T = min(now, end)``, per
district (the case's current district) and city-wide (every placed case), with
every count kept as a numerator and a denominator so a ratio is exact:

- 签收率 ``accept_rate`` = cases dispatched in P (their last dispatch or
  assignment) that are accepted by T / cases dispatched in P; 按时签收率
  ``accept_on_time_rate`` = those accepted by the deadline / those accepted.
- 办结率 ``resolve_rate``: the 应办结 runs of the resolve clock (a case has one
  run, plus one per reopening or assignment) are those that fell due in P
  (deadline in [start, T]) plus those resolved early in P (resolved in
  [start, T] before a deadline after T); the rate is how many of them are
  resolved by T.
- 按时办结率 ``resolve_on_time_rate`` = runs resolved in P by their deadline /
  (runs resolved in P + runs open and overdue at T): an open overdue run counts
  against it whenever it fell due, or late cases would hide by staying open.
  A run a return ended (the case left the district) counts in neither rate.
- 满意率 ``satisfaction_rate`` = visits in P answered satisfied or basically
  satisfied / visits in P, ``unreachable`` left out.
- 重复诉求率 ``repeat_rate`` = cases dispatched in P with two or more reports /
  cases dispatched in P.
- Also: open cases by age (now), overdue now, reopenings and returns in P
  (a return counts for the district that returned the case), and the median and
  90th percentile working time to accept (from dispatch) and to resolve (from
  the run's start), over those accepted / resolved in P.

Figures are "as known now": a later change to a case (a resolve after T, a
suspension) is seen only through the times the case records.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caseloop.clocks import WorkingCalendar
from schemas.caseloop import CaseState, CaseStatus, ClockName
from schemas.shenzhen import DISTRICTS

CITY = "city"
OPEN_AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("<1d", timedelta(days=1)),
    ("1-3d", timedelta(days=3)),
    ("3-7d", timedelta(days=7)),
    ("7-15d", timedelta(days=15)),
    (">15d", None),
)
_AGE_NAMES: tuple[str, ...] = tuple(name for name, _ in OPEN_AGE_BUCKETS)
_DONE = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


@dataclass(frozen=True)
class Ratio:
    """An exact ratio; ``value`` is None when nothing counts (no denominator)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """numerator / denominator, None for 0 / 0."""
        return self.numerator / self.denominator if self.denominator else None


@dataclass
class Figures:
    """Every figure of one scope (a district, or the city) for one period."""

    scope: str
    dispatched: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    due_runs: int = 0  # 应办结
    due_runs_resolved: int = 0
    resolved: int = 0  # runs resolved in the period
    resolved_on_time: int = 0
    open_overdue_runs: int = 0
    visits: int = 0
    satisfied: int = 0
    repeated: int = 0
    overdue_now: int = 0
    reopened: int = 0
    returned: int = 0
    open_by_age: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_AGE_NAMES, 0))
    accept_seconds: list[float] = field(default_factory=list)
    resolve_seconds: list[float] = field(default_factory=list)

    @property
    def accept_rate(self) -> Ratio:
        """签收率."""
        return Ratio(self.accepted, self.dispatched)

    @property
    def accept_on_time_rate(self) -> Ratio:
        """按时签收率."""
        return Ratio(self.accepted_on_time, self.accepted)

    @property
    def resolve_rate(self) -> Ratio:
        """办结率."""
        return Ratio(self.due_runs_resolved, self.due_runs)

    @property
    def resolve_on_time_rate(self) -> Ratio:
        """按时办结率."""
        return Ratio(self.resolved_on_time, self.resolved + self.open_overdue_runs)

    @property
    def satisfaction_rate(self) -> Ratio:
        """满意率."""
        return Ratio(self.satisfied, self.visits)

    @property
    def repeat_rate(self) -> Ratio:
        """重复诉求率."""
        return Ratio(self.repeated, self.dispatched)

    def percentile_hours(self, which: str, q: float) -> float | None:
        """The ``q`` quantile (0.5, 0.9) of working hours to accept or resolve."""
        values = self.accept_seconds if which == "accept" else self.resolve_seconds
        return _quantile(values, q) / 3600 if values else None


def compute(
    cases: Iterable[CaseState],
    start: datetime,
    end: datetime,
    now: datetime,
    cal: WorkingCalendar,
) -> dict[str, Figures]:
    """Figures per district slug and for ``"city"``, over ``[start, end)`` evaluated at now."""
    at = min(now, end)
    scopes = {d.slug: Figures(d.slug) for d in DISTRICTS}
    scopes[CITY] = Figures(CITY)
    for case in cases:
        if case.district is not None:
            for scope in (scopes[case.district], scopes[CITY]):
                _count_case(scope, case, start, at, now, cal)
        for entry in case.history:
            if entry.action == "return" and start <= entry.at < at and entry.detail in scopes:
                scopes[entry.detail].returned += 1
                if entry.detail != CITY:
                    scopes[CITY].returned += 1
    return scopes


def _count_case(
    f: Figures, case: CaseState, start: datetime, at: datetime, now: datetime, cal: WorkingCalendar
) -> None:
    in_period = start <= case.dispatched_at < at
    accept = case.clocks.get(ClockName.ACCEPT)
    if in_period:
        f.dispatched += 1
        f.repeated += len(case.sources) >= 2
        if accept is not None and accept.met_at is not None and accept.met_at <= at:
            f.accepted += 1
            f.accepted_on_time += accept.due_at is not None and accept.met_at <= accept.due_at
    if accept is not None and accept.met_at is not None and start <= accept.met_at < at:
        f.accept_seconds.append(cal.working_seconds(case.dispatched_at, accept.met_at))
    for run in case.runs:
        if run.stopped_at is not None and run.stopped_at <= at:
            continue  # ended by a return: the case left; its new district runs its own
        resolved = run.resolved_at is not None and run.resolved_at <= at
        resolved_here = resolved and run.resolved_at is not None and run.resolved_at >= start
        fell_due = run.due_at is not None and start <= run.due_at <= at
        early = resolved_here and run.due_at is not None and run.due_at > at
        if fell_due or early:
            f.due_runs += 1
            f.due_runs_resolved += resolved
        if resolved_here and run.resolved_at is not None:
            f.resolved += 1
            f.resolved_on_time += run.due_at is not None and run.resolved_at <= run.due_at
            f.resolve_seconds.append(cal.working_seconds(run.started_at, run.resolved_at))
        elif not resolved and run.due_at is not None and run.due_at <= at:
            f.open_overdue_runs += 1
    for entry in case.history:
        if not start <= entry.at < at:
            continue
        if entry.action == "visit":
            visit = entry.detail
            if visit != "unreachable":
                f.visits += 1
                f.satisfied += visit in ("satisfied", "basically_satisfied")
            if visit == "dissatisfied":
                f.reopened += 1
        elif entry.action == "reopen":
            f.reopened += 1
    if case.status not in _DONE:
        f.open_by_age[_age_bucket(now - case.dispatched_at)] += 1
        f.overdue_now += any(
            c.state == "running" and c.due_at is not None and c.due_at <= now
            for c in case.clocks.values()
        )


def _age_bucket(age: timedelta) -> str:
    for name, limit in OPEN_AGE_BUCKETS:
        if limit is None or age < limit:
            return name
    return OPEN_AGE_BUCKETS[-1][0]


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    if q == 0.5:
        return statistics.median(ordered)
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]
