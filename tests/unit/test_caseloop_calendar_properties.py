"""The calendar's arithmetic agrees with itself and with a day-by-day reference, over instants
from mid-2025 to mid-2028: shipped years, the unknown 2027 and 2028, and 2027 from the file."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from caseloop.calendar import CST, WorkingDayCalendar
from core.times import from_us, to_us
from tests.unit.test_caseloop_calendar_overrides import example_overrides

CALENDARS = st.sampled_from([WorkingDayCalendar(), WorkingDayCalendar(example_overrides())])
_LOW, _HIGH = to_us(datetime(2025, 6, 1, tzinfo=CST)), to_us(datetime(2028, 6, 1, tzinfo=CST))
# Exact midnights, noons and one microsecond either side are where off-by-ones hide.
_EDGES = st.builds(
    lambda day, at, nudge: (
        datetime.combine(date(2025, 6, 1) + timedelta(days=day), at, CST)
        + timedelta(microseconds=nudge)
    ),
    st.integers(0, 1000),
    st.sampled_from([time(0), time(12)]),
    st.sampled_from([-1, 0, 1]),
)
INSTANTS = st.one_of(st.integers(_LOW, _HIGH).map(from_us), _EDGES)
SPANS = st.one_of(
    st.integers(0, 40 * 86_400_000_000).map(lambda us: timedelta(microseconds=us)),
    st.integers(0, 40).map(lambda days: timedelta(days=days)),
)
US = timedelta(microseconds=1)


def reference_working_time(cal: WorkingDayCalendar, a: datetime, b: datetime) -> timedelta:
    """Day by day: the overlap of [a, b) with each working day."""
    total = timedelta()
    day = a.astimezone(CST).date()
    while (start := datetime.combine(day, time(), CST)) < b:
        end = start + timedelta(days=1)
        if cal.is_working_day(day):
            total += max(min(end, b) - max(start, a), timedelta())
        day += timedelta(days=1)
    return total


def reference_deadline(cal: WorkingDayCalendar, start: datetime, n: int) -> datetime:
    day, counted = start.astimezone(CST).date(), 0
    while counted < n:
        day += timedelta(days=1)
        counted += cal.is_working_day(day)
    return datetime.combine(day + timedelta(days=1), time(), CST)


@settings(max_examples=300)
@given(CALENDARS, INSTANTS, INSTANTS)
def test_working_time_matches_the_reference(
    cal: WorkingDayCalendar, a: datetime, b: datetime
) -> None:
    expected = reference_working_time(cal, a, b) if a < b else timedelta()
    assert cal.working_time(a, b) == expected
    assert cal.working_seconds(a, b) == expected.total_seconds()


@settings(max_examples=300)
@given(CALENDARS, INSTANTS, st.integers(1, 30))
def test_deadline_matches_the_reference(cal: WorkingDayCalendar, start: datetime, n: int) -> None:
    assert cal.working_days_deadline(start, n) == reference_deadline(cal, start, n)


@settings(max_examples=300)
@given(CALENDARS, INSTANTS, SPANS)
def test_advance_is_the_earliest_inverse(
    cal: WorkingDayCalendar, a: datetime, s: timedelta
) -> None:
    t = cal.advance_working(a, s)
    assert t >= a
    assert cal.working_time(a, t) == s
    if s:
        assert cal.working_time(a, t - US) < s
    # Through seconds as a float, as the clocks call it: the same instant.
    assert cal.advance_working(a, s.total_seconds()) == t


@given(CALENDARS, INSTANTS, SPANS, SPANS)
def test_advance_never_goes_back_as_the_span_grows(
    cal: WorkingDayCalendar, a: datetime, s: timedelta, more: timedelta
) -> None:
    assert cal.advance_working(a, s) <= cal.advance_working(a, s + more)


@given(CALENDARS, INSTANTS, SPANS, SPANS)
def test_advance_never_goes_back_as_the_start_moves_on(
    cal: WorkingDayCalendar, a: datetime, later: timedelta, s: timedelta
) -> None:
    assert cal.advance_working(a, s) <= cal.advance_working(a + later, s)


@given(CALENDARS, INSTANTS, SPANS, SPANS)
def test_working_time_adds_up(
    cal: WorkingDayCalendar, a: datetime, first: timedelta, second: timedelta
) -> None:
    b, c = a + first, a + first + second
    assert cal.working_time(a, c) == cal.working_time(a, b) + cal.working_time(b, c)


@given(CALENDARS, INSTANTS, st.integers(1, 30), st.floats(0, 1))
def test_a_resumed_clock_keeps_its_deadline(
    cal: WorkingDayCalendar, start: datetime, n: int, fraction: float
) -> None:
    # Measuring the time left at any instant and advancing by it lands on the same deadline.
    deadline = cal.working_days_deadline(start, n)
    at = start + (deadline - start) * fraction
    assert cal.advance_working(at, cal.working_time(at, deadline)) == deadline
