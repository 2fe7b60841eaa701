"""Mainland China's official working days, and the working-time arithmetic of the 时限.

This is the contract the clocks (:mod:`caseloop.clocks`), supervision and the
figures build on (caseloop.md, "Urgency and time limits").

Days
----
- A *day* is a calendar date in China Standard Time (CST, UTC+08:00 all year):
  an instant ``t`` lies on day ``D`` when ``D 00:00 CST <= t < D+1 00:00 CST``;
  "24:00 CST of ``D``" is the instant ``D+1 00:00 CST``.
- Whether a day is a working day is decided by its year, first that applies:

  1. the year is in the admin's calendar file
     (:class:`caseloop.calendar_overrides.CalendarOverrides`): Monday to Friday
     except that year's ``holidays``, and that year's ``workdays`` (调休上班).
     The file's entry is the year's whole schedule: for a year the shipped
     calendar knows too, it replaces it (that is how a mistake is corrected);
  2. the year is one the shipped calendar knows (the ``chinesecalendar``
     package, :data:`SHIPPED_YEARS`: 2004 to 2026 in its 1.11, more as it is
     upgraded): its answer, weekends and public holidays off, adjusted working
     weekend days on;
  3. otherwise Monday to Friday are working days, and the day is *unknown*
     (:meth:`WorkingDayCalendar.is_known` is false), so that the daemon can warn
     (:meth:`WorkingDayCalendar.unknown_years_between`).

Arithmetic
----------
Inputs are timezone-aware datetimes in any zone (a naive one is a ValueError);
outputs are UTC datetimes; everything is exact to the microsecond.

- ``working_days_deadline(start, n)``, ``n >= 1``: 24:00 CST of the ``n``-th
  working day after ``start``'s day. ``start``'s own day never counts, whether
  or not it is a working day, and however early in it ``start`` is.
- ``working_time(a, b)``: how much of ``[a, b)`` lies on working days; a working
  day counts its full 24 hours, any other day nothing. Zero when ``b <= a``
  (so the clocks can measure an empty or reversed span without a check).
- ``advance_working(a, s)``, ``s >= 0``: the earliest instant ``t >= a`` with
  ``working_time(a, t) == s``. So ``s == 0`` gives ``a``; from inside a
  non-working day the count begins at the next working day's 00:00 CST; a span
  that ends exactly at a working day's 24:00 ends there, not at the start of
  the next working day after a holiday.
- These agree: ``working_time(a, advance_working(a, s)) == s``;
  ``advance_working`` never decreases when ``a`` or ``s`` grows; and
  ``working_days_deadline(start, n)`` is
  ``advance_working(start, working_time(start, deadline))``.
- Seconds given or returned as floats (``working_seconds``, a float to
  ``advance_working``) are rounded to the microsecond; :class:`timedelta`
  (``working_time``) is exact.

Each year's working days are computed once per calendar, as a running count
over the year, so every call costs a few look-ups and, for spans over years,
one step per year, never one per day.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from itertools import accumulate

import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints

from caseloop.calendar_overrides import CalendarOverrides, YearSchedule

CST = timezone(timedelta(hours=8), "CST")

_US_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CST_EPOCH = datetime(1970, 1, 1, tzinfo=CST).astimezone(UTC)  # results come out in UTC
_SATURDAY = 5

SHIPPED_YEARS = range(
    min(day.year for day in chinese_calendar.holidays),
    max(day.year for day in chinese_calendar.holidays) + 1,
)
"""The years the installed ``chinesecalendar`` knows (its own rule: from its first to its last
holiday's year); it raises NotImplementedError for any other."""


@cache
def _shipped_year(year: int) -> tuple[bool, ...] | None:
    """Each day of ``year`` (working or not) from ``chinesecalendar``; None if it lacks the year."""
    try:
        return tuple(bool(chinese_calendar.is_workday(d)) for d in _dates_of(year))
    except NotImplementedError:
        return None


def _scheduled_year(year: int, schedule: YearSchedule) -> tuple[bool, ...]:
    off, on = frozenset(schedule.holidays), frozenset(schedule.workdays)
    return tuple(d in on or (_weekday(d) and d not in off) for d in _dates_of(year))


def _weekdays_year(year: int) -> tuple[bool, ...]:
    return tuple(_weekday(d) for d in _dates_of(year))


def _weekday(day: date) -> bool:
    return day.weekday() < _SATURDAY


def _dates_of(year: int) -> list[date]:
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    return [date.fromordinal(o) for o in range(first, last + 1)]


@dataclass(frozen=True)
class _Year:
    """One year's working days as a running count: ``counts[i]``, working days in its first i."""

    first: int  # ordinal of 1 January
    known: bool
    counts: tuple[int, ...]

    @classmethod
    def of(cls, year: int, working: tuple[bool, ...], known: bool) -> _Year:
        return cls(date(year, 1, 1).toordinal(), known, (0, *accumulate(working)))

    @property
    def total(self) -> int:
        return self.counts[-1]

    def before(self, ordinal: int) -> int:
        """Working days of the year before day ``ordinal`` (of this year, or the next 1 January)."""
        return self.counts[ordinal - self.first]


_NO_YEAR = _Year(first=0, known=False, counts=(0,))  # holds no day


class WorkingDayCalendar:
    """The official working days (shipped calendar, corrected and extended by the admin's file),
    and the arithmetic of the module docstring over them. Its answers never change (it only
    caches them): for a new file, build a new calendar. Satisfies
    :class:`caseloop.clocks.WorkingCalendar`."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self._schedules = dict(overrides.years) if overrides is not None else {}
        self._years: dict[int, _Year] = {}
        self._last = _NO_YEAR  # the year last looked up: most calls stay in one year

    # -- days ---------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (a datetime: the CST day it lies on)."""
        return self._working(_ordinal_of(day))

    def is_known(self, day: date) -> bool:
        """Whether ``day``'s year is in the admin's file or the shipped calendar (a datetime: the
        CST day it lies on); an unknown day's working status is the Monday-to-Friday guess."""
        return self._year_of(_ordinal_of(day)).known

    def unknown_years_between(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """The years, in order, of the CST days that ``[a, b)`` touches which the calendar does
        not know (empty when ``b <= a``): what the daemon warns about."""
        # Split first, so that a naive argument is this module's ValueError, not a TypeError.
        first_day, last_day = _split(a)[0], _split(b - timedelta(microseconds=1))[0]
        if b <= a:
            return ()
        first, last = date.fromordinal(first_day).year, date.fromordinal(last_day).year
        return tuple(y for y in range(first, last + 1) if not self._year(y).known)

    # -- arithmetic ---------------------------------------------------------------------------

    def working_days_deadline(self, start: datetime, n: int) -> datetime:
        """24:00 CST of the ``n``-th working day after ``start``'s day (``n >= 1``), in UTC."""
        if n < 1:
            raise ValueError(f"n must be at least 1 working day, not {n}")
        day = self._nth_working_day(_split(start)[0] + 1, n)
        return _instant(day + 1, 0)

    def working_time(self, a: datetime, b: datetime) -> timedelta:
        """How much of ``[a, b)`` lies on working days (24 h each); zero when ``b <= a``."""
        return timedelta(microseconds=self._working_us(a, b))

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """:meth:`working_time` in seconds."""
        return self._working_us(a, b) / 1_000_000

    def advance_working(self, a: datetime, seconds: float | timedelta) -> datetime:
        """The earliest instant ``t >= a`` with ``working_time(a, t) == seconds`` (``>= 0``), in
        UTC; a float is rounded to the microsecond."""
        span = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        left = span // timedelta(microseconds=1)
        if left < 0:
            raise ValueError(f"cannot advance by a negative working time ({span})")
        day, into = _split(a)
        if left == 0:
            return a.astimezone(UTC)
        if self._working(day):
            rest_of_day = _US_PER_DAY - into
            if left <= rest_of_day:
                return _instant(day, into + left)
            left -= rest_of_day
        whole_days, part = divmod(left, _US_PER_DAY)
        if part == 0:  # ends at 24:00 of a working day, not at the next one's 00:00
            return _instant(self._nth_working_day(day + 1, whole_days) + 1, 0)
        return _instant(self._nth_working_day(day + 1, whole_days + 1), part)

    # -- internals ----------------------------------------------------------------------------

    def _working_us(self, a: datetime, b: datetime) -> int:
        (day_a, into_a), (day_b, into_b) = _split(a), _split(b)
        if (day_b, into_b) <= (day_a, into_a):
            return 0
        # [a, b) = whole days [day_a, day_b), less the part of day_a before a, plus day_b's.
        total = self._count(day_a, day_b) * _US_PER_DAY
        if self._working(day_a):
            total -= into_a
        if into_b and self._working(day_b):
            total += into_b
        return total

    def _working(self, ordinal: int) -> bool:
        year = self._year_of(ordinal)
        return year.before(ordinal + 1) > year.before(ordinal)

    def _count(self, first: int, end: int) -> int:
        """Working days among the days ``[first, end)`` (ordinals)."""
        year_a, year_b = self._year_of(first), self._year_of(end)
        if year_a is year_b:
            return year_b.before(end) - year_a.before(first)
        y_a, y_b = date.fromordinal(first).year, date.fromordinal(end).year
        between = sum(self._year(y).total for y in range(y_a + 1, y_b))
        return year_a.total - year_a.before(first) + between + year_b.before(end)

    def _nth_working_day(self, first: int, n: int) -> int:
        """The ordinal of the ``n``-th (``n >= 1``) working day on or after day ``first``."""
        y = date.fromordinal(first).year
        year = self._year(y)
        target = year.before(first) + n  # the running count that day reaches
        while target > year.total:
            target -= year.total
            y += 1
            year = self._year(y)
        return year.first + bisect_left(year.counts, target) - 1

    def _year_of(self, ordinal: int) -> _Year:
        last = self._last
        if last.first <= ordinal < last.first + len(last.counts) - 1:
            return last
        self._last = year = self._year(date.fromordinal(ordinal).year)
        return year

    def _year(self, y: int) -> _Year:
        year = self._years.get(y)
        if year is None:
            year = self._years[y] = self._build(y)
        return year

    def _build(self, y: int) -> _Year:
        schedule = self._schedules.get(y)
        if schedule is not None:
            return _Year.of(y, _scheduled_year(y, schedule), known=True)
        shipped = _shipped_year(y)
        if shipped is not None:
            return _Year.of(y, shipped, known=True)
        return _Year.of(y, _weekdays_year(y), known=False)


def _ordinal_of(day: date) -> int:
    return _split(day)[0] if isinstance(day, datetime) else day.toordinal()


def _split(at: datetime) -> tuple[int, int]:
    """``at`` as (ordinal of its CST day, microseconds since that day's 00:00 CST)."""
    try:
        since = at - _CST_EPOCH  # a timedelta keeps 0 <= seconds < 1 day: days is the floor
    except TypeError:
        raise ValueError(f"{at.isoformat()} has no time zone: give an aware datetime") from None
    return _EPOCH_ORDINAL + since.days, since.seconds * 1_000_000 + since.microseconds


def _instant(ordinal: int, into: int) -> datetime:
    """The UTC instant ``into`` microseconds after 00:00 CST of day ``ordinal``."""
    return _CST_EPOCH + timedelta(days=ordinal - _EPOCH_ORDINAL, microseconds=into)
