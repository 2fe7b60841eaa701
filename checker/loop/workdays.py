"""The checker's own working-day arithmetic (caseloop.md "Urgency and time limits").

A day-by-day walk over China Standard Time dates: a date is a working day when
``chinese_calendar.is_workday`` says so (weekends and public holidays off, the
adjusted working weekends 调休 on); for a year that package does not know, or
where it is not installed, Monday to Friday. A working day counts all its 24
hours of working time; any other day counts none. "N working days after a
start" ends at 24:00 CST of the Nth working day after the start's own day.

Times are exact (``timedelta``), never floats.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta, timezone

try:  # pragma: no branch - depends on the environment
    import chinese_calendar  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    chinese_calendar = None

CST = timezone(timedelta(hours=8), "CST")
DAY = timedelta(days=1)
ZERO = timedelta(0)
# A walk this long means a bug (no working day for years), not a calendar.
MAX_DAYS = 3660


class WorkingDays:
    """Which CST dates are working days, and time counted in working time.

    ``overrides`` (date -> working?) win over everything, like the calendar
    file an admin loads for years the shipped calendar does not know.
    :attr:`fallback_years` lists the years answered Monday to Friday.
    """

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self.fallback_years: set[int] = set()
        self.is_workday = functools.lru_cache(maxsize=8192)(self._is_workday)

    def _is_workday(self, day: date) -> bool:
        """Whether ``day`` (a CST date) is a working day."""
        if day in self._overrides:
            return self._overrides[day]
        if chinese_calendar is not None:
            try:
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                pass  # a year the package has no data for
        self.fallback_years.add(day.year)
        return day.weekday() < 5

    def deadline(self, start: datetime, n: int) -> datetime:
        """24:00 CST of the ``n``-th working day after ``start``'s own CST day (n >= 1)."""
        day = start.astimezone(CST).date()
        found = 0
        for _ in range(MAX_DAYS):
            day += DAY
            if self.is_workday(day):
                found += 1
                if found >= n:
                    return _midnight(day + DAY)
        raise ValueError(f"no {n} working days within {MAX_DAYS} days of {start}")

    def working_time(self, a: datetime, b: datetime) -> timedelta:
        """How much of [a, b) falls on working days (zero when b <= a)."""
        total = ZERO
        for day_start, day_end in self._days(a, b):
            if self.is_workday(day_start.astimezone(CST).date()):
                total += min(b, day_end) - max(a, day_start)
        return total

    def advance(self, a: datetime, amount: timedelta) -> datetime:
        """The earliest instant at which ``amount`` of working time has passed since ``a``."""
        if amount <= ZERO:
            return a
        left = amount
        day = a.astimezone(CST).date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                begin = max(a, _midnight(day))
                room = _midnight(day + DAY) - begin
                if left <= room:
                    return begin + left
                left -= room
            day += DAY
        raise ValueError(f"cannot advance {amount} of working time from {a}")

    def _days(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        """The CST days [00:00, 24:00) that overlap [a, b)."""
        out = []
        day = a.astimezone(CST).date()
        while b > a and _midnight(day) < b:
            out.append((_midnight(day), _midnight(day + DAY)))
            day += DAY
        return out


def _midnight(day: date) -> datetime:
    """00:00 CST of ``day``."""
    return datetime.combine(day, time(0), CST)
