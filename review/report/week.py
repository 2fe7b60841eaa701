"""The report's week: an ISO week in China Standard Time, on the loop's clock.

Case states carry loop times and dispatch events wall times
(``caseloop/loopclock.py``); a :class:`Week` gives both bounds, so that the
figures (from case states) and the counts (from events) cover the same week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from caseloop.calendar import CST
from caseloop.loopclock import LoopClock
from core.errors import ConfigError
from core.times import to_us

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    """One ISO week [start, end) in loop time, evaluated at ``at`` (now, or its end)."""

    start: datetime
    end: datetime
    now: datetime
    clock: LoopClock

    @classmethod
    def holding(cls, at: datetime, now: datetime, clock: LoopClock) -> Week:
        """The week that holds loop time ``at``."""
        local = at.astimezone(CST)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
            days=local.weekday()
        )
        return cls(start, start + timedelta(days=7), now, clock)

    @classmethod
    def parse(cls, text: str, now: datetime, clock: LoopClock) -> Week:
        """The week named ``2026-W49``; :class:`ConfigError` naming ``--week`` otherwise."""
        match = _WEEK.match(text)
        if match is None:
            raise ConfigError("--week", f"{text[:20]!r} is not an ISO week like 2026-W49")
        try:
            monday = datetime.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise ConfigError("--week", f"{text} has no such week") from None
        return cls.holding(monday.replace(tzinfo=CST), now, clock)

    @property
    def label(self) -> str:
        """``2026-W49``."""
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def last_day(self) -> date:
        """The week's Sunday (CST)."""
        return (self.end - timedelta(days=1)).date()

    @property
    def at(self) -> datetime:
        """The instant the figures are evaluated at: now, or the week's end if it is over."""
        return min(self.now, self.end)

    def shifted(self, weeks: int) -> Week:
        """The week ``weeks`` later (negative: earlier), evaluated at the same ``now``."""
        delta = timedelta(weeks=weeks)
        return Week(self.start + delta, self.end + delta, self.now, self.clock)

    def wall_us(self) -> tuple[int, int]:
        """[start, min(end, now)) in wall-clock microseconds, for dispatch events."""
        return to_us(self.clock.wall(self.start)), to_us(self.clock.wall(self.at))

    def now_wall_us(self) -> int:
        """Now in wall-clock microseconds (risk alerts' open-until is report time)."""
        return to_us(self.clock.wall(self.now))
