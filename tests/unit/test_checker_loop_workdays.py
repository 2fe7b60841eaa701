"""The checker's working-day arithmetic: holidays, 调休, the fallback, and exactness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from checker.loop.workdays import CST, WorkingDays
from tests.unit.test_checker_loop_builders import cst

CAL = WorkingDays()
# hypothesis takes naive bounds and attaches the time zone itself
instants = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001
    max_value=datetime(2027, 2, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def test_the_official_calendar_with_its_adjusted_days() -> None:
    assert CAL.is_workday(date(2026, 2, 14))  # Saturday before 春节, worked
    assert not CAL.is_workday(date(2026, 2, 16))  # Monday in 春节
    assert CAL.is_workday(date(2026, 9, 20))  # Sunday before 国庆, worked
    assert not CAL.is_workday(date(2026, 10, 5))
    assert not CAL.is_workday(date(2026, 9, 25))  # 中秋


def test_overrides_and_the_monday_to_friday_fallback() -> None:
    cal = WorkingDays({date(2027, 1, 1): False})
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 4))
    assert not cal.is_workday(date(2027, 1, 9))
    assert cal.fallback_years == {2027}


def test_working_time_counts_whole_working_days_in_cst() -> None:
    # Fri 13 Feb 15:00 to Wed 25 Feb 00:00: 9 h + Sat 14 (worked) + Tue 24
    assert CAL.working_time(cst("2026-02-13T15:00"), cst("2026-02-25T00:00")) == timedelta(hours=57)
    assert CAL.working_time(cst("2026-02-16T00:00"), cst("2026-02-23T12:00")) == timedelta(0)


@given(instants, st.integers(min_value=1, max_value=20))
def test_a_deadline_is_the_end_of_the_nth_working_day_after_the_start_day(
    start: datetime, n: int
) -> None:
    end = CAL.deadline(start, n)
    local = end.astimezone(CST)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    last = local.date() - timedelta(days=1)
    assert CAL.is_workday(last)
    first = start.astimezone(CST).date() + timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert sum(CAL.is_workday(d) for d in days) == n


@given(instants, st.integers(min_value=0, max_value=40 * 86_400_000_000))
def test_advance_and_working_time_are_exact_inverses(start: datetime, us: int) -> None:
    amount = timedelta(microseconds=us)
    end = CAL.advance(start, amount)
    assert CAL.working_time(start, end) == amount
    if amount:  # the earliest such instant: a microsecond less is not enough
        assert CAL.working_time(start, end - timedelta(microseconds=1)) < amount
