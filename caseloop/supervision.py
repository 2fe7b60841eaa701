"""Supervision (督办): which SLA levels a case has reached, and when it next needs a look.

A running clock raises ``warning`` at 80 % of its time, ``overdue`` at 100 %
(its deadline: the city desk's 督办 list) and ``escalated`` at 200 %. Each
(case, clock, level, restart) is raised once: :attr:`LoopCase.raised` holds the
keys raised, committed in the same transaction as the alert. A level passed
while nobody was looking (unionhub down) is raised as soon as it is seen, with
its true ``level_at``. ``restart`` counts the runs of the clocks begun anew (a
reopening, an assignment), so a new run is supervised afresh.

:func:`next_look` is when the case next needs attention (its earliest unraised
level, or its auto-close); the router keeps it in a timer index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from caseloop.case import LoopCase
from caseloop.clocks import ESCALATED_LEVEL, OVERDUE_LEVEL, WARNING_LEVEL, WorkingCalendar, level_at
from caseloop.transitions import auto_close_at
from core.ids import digest_id
from schemas.caseloop import ClockName, SlaAlert, SlaLevel

LEVELS: tuple[tuple[SlaLevel, float], ...] = (
    (SlaLevel.WARNING, WARNING_LEVEL),
    (SlaLevel.OVERDUE, OVERDUE_LEVEL),
    (SlaLevel.ESCALATED, ESCALATED_LEVEL),
)


@dataclass(frozen=True)
class Reached:
    """A level a clock reached at ``at`` (to raise once)."""

    clock: ClockName
    level: SlaLevel
    at: datetime
    restart: int

    @property
    def key(self) -> str:
        """The once-only key in :attr:`LoopCase.raised`."""
        return raised_key(self.clock, self.level, self.restart)


def raised_key(clock: ClockName, level: SlaLevel, restart: int) -> str:
    """The key of one (clock, level, restart) in :attr:`LoopCase.raised`."""
    return f"{clock}/{level}/{restart}"


def sla_alert_id(case_id: str, clock: ClockName, level: SlaLevel, restart: int) -> str:
    """Deterministic id of one SLA alert: a replay raises the same id."""
    return "sla-" + digest_id("sla", case_id, clock, level, str(restart))


def pending(cal: WorkingCalendar, case: LoopCase) -> list[Reached]:
    """Every level of a running clock not raised yet, with when it is (or was) reached."""
    found = []
    for name, clock in case.clocks.items():
        for level, fraction in LEVELS:
            if raised_key(name, level, case.restarts) in case.raised:
                continue
            when = level_at(cal, clock, fraction)
            if when is not None:
                found.append(Reached(name, level, when, case.restarts))
    return sorted(found, key=lambda r: (r.at, r.clock, r.level))


def reached(cal: WorkingCalendar, case: LoopCase, now: datetime) -> list[Reached]:
    """The levels reached by ``now`` and not raised yet, oldest first."""
    return [r for r in pending(cal, case) if r.at <= now]


def mark_raised(case: LoopCase, keys: list[str]) -> LoopCase:
    """``case`` with ``keys`` raised (no new version: the alert is not a case change)."""
    if not keys:
        return case
    return replace(case, raised=case.raised | frozenset(keys))


def survey(
    cal: WorkingCalendar, case: LoopCase, now: datetime
) -> tuple[list[Reached], datetime | None]:
    """The levels reached by ``now`` (to raise) and when the case next needs a look after
    them: :func:`reached` and :func:`next_look` of the case once they are raised, in one pass."""
    due: list[Reached] = []
    later: list[Reached] = []
    for r in pending(cal, case):
        (due if r.at <= now else later).append(r)
    times = [r.at for r in later]
    close = auto_close_at(case)
    if close is not None:
        times.append(close)
    return due, (min(times) if times else None)


def next_look(cal: WorkingCalendar, case: LoopCase) -> datetime | None:
    """When the case next needs a look: its next level or its auto-close; None if never."""
    times = [r.at for r in pending(cal, case)]
    close = auto_close_at(case)
    if close is not None:
        times.append(close)
    return min(times) if times else None


def sla_alert(
    case: LoopCase,
    clock: ClockName,
    level: SlaLevel,
    level_at_: datetime,
    raised_at: datetime,
    restart: int,
) -> SlaAlert:
    """The ``alerts.sla`` record of one level of one case."""
    due = case.clocks[clock].due_at if clock in case.clocks else None
    return SlaAlert(
        alert_id=sla_alert_id(case.case_id, clock, level, restart),
        case_id=case.case_id,
        district=case.district,
        clock=clock,
        level=level,
        reopening=restart,
        due_at=due,
        level_at=level_at_,
        raised_at=raised_at,
        urgency=case.urgency,
        category=case.category,
    )
