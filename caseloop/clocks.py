"""A case's clocks: when each falls due, and when 80 / 100 / 200 % of its time has passed.

A clock counts its time in its unit: calendar time for an hour limit, working
time (:mod:`caseloop.calendar`: a working day counts its 24 hours, other days
nothing) for a working-day limit. It keeps its ``budget`` (all the time it
has), the time ``used`` in runs that ended (before a ``suspend``), and the
start of its current run; so

- its deadline is the instant its current run has used ``budget - used``;
- a level (0.8, 1, 2) is reached when it has used ``level * budget`` in all;
- ``suspend`` ends a run (the time left is kept), ``resume`` starts one: the
  deadline moves by the suspended time, counted in the clock's unit;
- becoming an emergency shortens it: the time left becomes the lesser of what
  it had and the emergency limit from that moment, so a limit never grows. An
  hour limit replacing a working-day one (accept, contact) turns the clock into
  an hour clock whose budget runs from its start to the new deadline.

A clock's deadline at start is caseloop.md's: N hours later, or 24:00 CST of
the Nth working day after the start day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from caseloop.limits import Limit, Unit

ClockState = Literal["running", "paused", "stopped", "met"]

WARNING_LEVEL = 0.8
OVERDUE_LEVEL = 1.0
ESCALATED_LEVEL = 2.0


class WorkingCalendar(Protocol):
    """The working-day arithmetic clocks need (see :mod:`caseloop.calendar`)."""

    def working_days_deadline(self, start: datetime, n: int) -> datetime:
        """24:00 CST of the ``n``-th working day after ``start``'s day."""
        ...

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Seconds of [a, b) that fall on working days."""
        ...

    def advance_working(self, a: datetime, seconds: float) -> datetime:
        """The earliest instant at which ``seconds`` of working time have passed since ``a``."""
        ...


@dataclass(frozen=True)
class Clock:
    """One clock of one case; immutable, every change gives a new one."""

    unit: Unit
    budget_s: float
    used_s: float
    run_start: datetime | None  # None unless running
    state: ClockState
    due_at: datetime | None  # the deadline while running; the one it had when met
    met_at: datetime | None = None
    # When the running clock reaches 80 %, 100 % and 200 %: computed when a run starts or
    # changes (the calendar arithmetic once, not at every look).
    levels: tuple[datetime, datetime, datetime] | None = None

    @property
    def open(self) -> bool:
        """Running or paused: it can still be met."""
        return self.state in ("running", "paused")

    def met_on_time(self) -> bool | None:
        """Whether it was met by its deadline; None while not met."""
        if self.met_at is None or self.due_at is None:
            return None
        return self.met_at <= self.due_at


def _measure(cal: WorkingCalendar, unit: Unit, a: datetime, b: datetime) -> float:
    if b <= a:
        return 0.0
    if unit == "hours":
        return (b - a).total_seconds()
    return cal.working_seconds(a, b)


def _advance(cal: WorkingCalendar, unit: Unit, a: datetime, seconds: float) -> datetime:
    seconds = max(seconds, 0.0)
    if unit == "hours":
        return a + timedelta(seconds=seconds)
    return cal.advance_working(a, seconds)


def limit_deadline(cal: WorkingCalendar, limit: Limit, start: datetime) -> datetime:
    """The deadline of ``limit`` from ``start`` (N hours, or the Nth working day's end)."""
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    return cal.working_days_deadline(start, limit.amount)


def start_clock(cal: WorkingCalendar, limit: Limit, at: datetime) -> Clock:
    """A clock running from ``at`` with ``limit``."""
    due = limit_deadline(cal, limit, at)
    budget = _measure(cal, limit.unit, at, due)
    # The levels of a fresh run, built in (one Clock, not one and a copy: every case starts three).
    warning = _advance(cal, limit.unit, at, WARNING_LEVEL * budget)
    escalated = _advance(cal, limit.unit, at, ESCALATED_LEVEL * budget)
    return Clock(limit.unit, budget, 0.0, at, "running", due, levels=(warning, due, escalated))


LEVELS = (WARNING_LEVEL, OVERDUE_LEVEL, ESCALATED_LEVEL)


def level_at(cal: WorkingCalendar, clock: Clock, level: float) -> datetime | None:
    """When the running ``clock`` reaches ``level`` (0.8, 1, 2) of its time; None unless running."""
    if clock.state != "running" or clock.run_start is None:
        return None
    if clock.levels is not None:
        return clock.levels[LEVELS.index(level)]
    return _level_time(cal, clock, level)


def _level_time(cal: WorkingCalendar, clock: Clock, level: float) -> datetime | None:
    if clock.run_start is None:
        return None
    if level == OVERDUE_LEVEL:
        return clock.due_at
    return _advance(cal, clock.unit, clock.run_start, level * clock.budget_s - clock.used_s)


def _with_levels(cal: WorkingCalendar, clock: Clock) -> Clock:
    """``clock`` with the times of its levels, for a running clock."""
    if clock.state != "running" or clock.run_start is None or clock.due_at is None:
        return replace(clock, levels=None)
    warning, escalated = (_level_time(cal, clock, f) for f in (WARNING_LEVEL, ESCALATED_LEVEL))
    if warning is None or escalated is None:
        return replace(clock, levels=None)
    return replace(clock, levels=(warning, clock.due_at, escalated))


def meet(clock: Clock, at: datetime) -> Clock:
    """The clock met at ``at`` (an open clock only; a met or stopped one is unchanged)."""
    if not clock.open:
        return clock
    return replace(clock, state="met", met_at=at, run_start=None, levels=None)


def pause(cal: WorkingCalendar, clock: Clock, at: datetime, *, stop: bool = False) -> Clock:
    """End the current run at ``at``, keeping the time used (``stop``: return, not suspend)."""
    if clock.state != "running" or clock.run_start is None:
        return replace(clock, state="stopped") if stop and clock.open else clock
    used = clock.used_s + _measure(cal, clock.unit, clock.run_start, at)
    return replace(
        clock,
        used_s=used,
        run_start=None,
        due_at=None,
        state="stopped" if stop else "paused",
        levels=None,
    )


def resume(cal: WorkingCalendar, clock: Clock, at: datetime) -> Clock:
    """Start a new run at ``at`` with the time the clock had left."""
    if clock.state != "paused":
        return clock
    due = _advance(cal, clock.unit, at, clock.budget_s - clock.used_s)
    return _with_levels(cal, replace(clock, run_start=at, state="running", due_at=due))


def shorten(cal: WorkingCalendar, clock: Clock, at: datetime, limit: Limit) -> Clock:
    """The clock with at most ``limit`` left from ``at`` (emergency); never lengthened."""
    if not clock.open:
        return clock
    if limit.unit != clock.unit:
        # Only accept and contact switch units (working days -> hours), and they are never
        # paused: the clock becomes an hour clock from its start to the earlier deadline.
        if clock.state != "running" or clock.run_start is None or clock.due_at is None:
            return clock
        due = min(clock.due_at, limit_deadline(cal, limit, at))
        if due == clock.due_at:
            return clock
        budget = max((due - clock.run_start).total_seconds(), 0.0)
        return _with_levels(cal, Clock("hours", budget, 0.0, clock.run_start, "running", due))
    allowed = _measure(cal, clock.unit, at, limit_deadline(cal, limit, at))
    if clock.state == "running" and clock.run_start is not None:
        used_now = clock.used_s + _measure(cal, clock.unit, clock.run_start, at)
    else:
        used_now = clock.used_s
    left = clock.budget_s - used_now
    if left <= allowed:
        return clock
    budget = used_now + allowed
    shortened = replace(clock, budget_s=budget)
    if clock.state == "running" and clock.run_start is not None:
        due = _advance(cal, clock.unit, clock.run_start, budget - clock.used_s)
        shortened = _with_levels(cal, replace(shortened, due_at=due))
    return shortened
