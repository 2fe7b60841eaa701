"""One clock of one case, the checker's model: a budget of time spent in runs.

A clock has a *budget* (all the time it may run, in its unit: calendar time
for an hour limit, working time for a working-day limit) and has *spent* some
of it in runs that ended (a ``suspend``). Its deadline is when the current run
has used what is left; a level (80 %, 100 %, 200 %) is reached when the time
spent in all runs reaches that share of the budget, but never before the
moment the clock took its current terms (started, resumed, shortened): a
shortening that puts a level in the past reaches it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from checker.loop.rules import Limit, Unit
from checker.loop.workdays import ZERO, WorkingDays

RUNNING, PAUSED, STOPPED, MET = "running", "paused", "stopped", "met"


def limit_end(cal: WorkingDays, limit: Limit, start: datetime) -> datetime:
    """``start`` plus ``limit``: N hours later, or 24:00 CST of the Nth working day after."""
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    return cal.deadline(start, limit.amount)


@dataclass
class Clock:
    """A clock's whole state; the methods change it in place."""

    unit: Unit
    budget: timedelta
    state: str = RUNNING
    spent: timedelta = ZERO  # in runs that ended
    since: datetime | None = None  # start of the current run, while running
    due: datetime | None = None  # while running; the last deadline once met
    met: datetime | None = None
    terms_from: datetime | None = None  # when it took its current terms

    @classmethod
    def start(cls, cal: WorkingDays, limit: Limit, at: datetime) -> Clock:
        """A clock running from ``at`` with ``limit``."""
        due = limit_end(cal, limit, at)
        budget = _span(cal, limit.unit, at, due)
        return cls(limit.unit, budget, since=at, due=due, terms_from=at)

    @property
    def is_open(self) -> bool:
        """Running or paused: it can still be met."""
        return self.state in (RUNNING, PAUSED)

    def level_time(self, cal: WorkingDays, fraction: float) -> datetime | None:
        """When the running clock reaches ``fraction`` of its budget; None unless running."""
        if self.state != RUNNING or self.since is None:
            return None
        if fraction == 1.0:
            return self.due
        when = _move(cal, self.unit, self.since, self.budget * fraction - self.spent)
        return max(when, self.terms_from) if self.terms_from is not None else when

    def meet(self, at: datetime) -> None:
        """Met at ``at`` (an open clock only)."""
        if self.is_open:
            self.state, self.met, self.since = MET, at, None

    def pause(self, cal: WorkingDays, at: datetime, *, final: bool = False) -> None:
        """End the current run at ``at`` keeping what is left (``final``: stopped for good)."""
        if self.state == RUNNING and self.since is not None:
            self.spent += _span(cal, self.unit, self.since, at)
            self.since, self.due = None, None
            self.state = STOPPED if final else PAUSED
        elif final and self.state == PAUSED:
            self.state = STOPPED

    def resume(self, cal: WorkingDays, at: datetime) -> None:
        """A new run from ``at`` with the time left (a paused clock only)."""
        if self.state == PAUSED:
            self.state, self.since, self.terms_from = RUNNING, at, at
            self.due = _move(cal, self.unit, at, self.budget - self.spent)

    def shorten(self, cal: WorkingDays, at: datetime, limit: Limit) -> None:
        """At most ``limit`` left from ``at`` (an emergency); a limit never grows."""
        if not self.is_open:
            return
        end = limit_end(cal, limit, at)
        if self.state == RUNNING and self.since is not None and self.due is not None:
            if end >= self.due:
                return
            if limit.unit != self.unit:
                # accept and contact only (never paused): an hour clock from its start.
                self.unit, self.spent = limit.unit, ZERO
            self.budget = self.spent + _span(cal, self.unit, self.since, end)
            self.due, self.terms_from = end, at
            return
        allowed = _span(cal, self.unit, at, end)
        if self.budget - self.spent > allowed:
            self.budget, self.terms_from = self.spent + allowed, at


def _span(cal: WorkingDays, unit: Unit, a: datetime, b: datetime) -> timedelta:
    if b <= a:
        return ZERO
    return b - a if unit == "hours" else cal.working_time(a, b)


def _move(cal: WorkingDays, unit: Unit, a: datetime, amount: timedelta) -> datetime:
    if amount <= ZERO:
        return a
    return a + amount if unit == "hours" else cal.advance(a, amount)
