"""The working-day calendar over real holiday weeks (the State Council's schedules as shipped by
chinesecalendar): deadlines, working time and advancing by it, each row saying why.

Facts the rows rest on, checked against ``chinese_calendar.is_workday`` in
:func:`test_the_holiday_weeks_the_rows_rest_on`:

- 春节 2026: Sunday 15 to Monday 23 February off; Saturdays 14 and 28 February worked.
- 国庆 2025: 1 to 8 October off; Sunday 28 September and Saturday 11 October worked.
- 中秋 and 国庆 2026: 25 to 27 September and 1 to 7 October off; Sunday 20 September and
  Saturday 10 October worked.
- 2027 is not in chinesecalendar 1.11: Monday to Friday, reported unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar  # type: ignore[import-untyped]
import pytest

from caseloop.calendar import CST, SHIPPED_YEARS, WorkingDayCalendar
from caseloop.clocks import WorkingCalendar
from tests.unit.test_caseloop_calendar_overrides import example_overrides

SHIPPED = WorkingDayCalendar()
WITH_2027 = WorkingDayCalendar(example_overrides())
H = 3600


def at(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS.ffffff]`` in CST; ``24:00`` is the end of that day."""
    if text.endswith(" 24:00"):
        return at(text.replace(" 24:00", " 00:00")) + timedelta(days=1)
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def test_the_holiday_weeks_the_rows_rest_on() -> None:
    worked = [date(2026, 2, 14), date(2026, 2, 28), date(2025, 9, 28), date(2025, 10, 11)]
    worked += [date(2026, 9, 20), date(2026, 10, 10)]
    off = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    off += [date(2025, 10, 1) + timedelta(days=i) for i in range(8)]
    off += [date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)]
    off += [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
    for day in worked:
        assert chinese_calendar.is_workday(day), day
        assert SHIPPED.is_working_day(day), day
    for day in off:
        assert not chinese_calendar.is_workday(day), day
        assert not SHIPPED.is_working_day(day), day
    assert SHIPPED.is_working_day(date(2026, 10, 8))  # Thursday after 国庆 2026


def test_chinesecalendar_1_11_knows_2004_to_2026() -> None:
    assert range(2004, 2027) == SHIPPED_YEARS


def test_every_shipped_day_is_the_packages_answer() -> None:
    day, last = date(SHIPPED_YEARS.start, 1, 1), date(SHIPPED_YEARS.stop - 1, 12, 31)
    while day <= last:
        assert SHIPPED.is_working_day(day) == chinese_calendar.is_workday(day), day
        assert SHIPPED.is_known(day)
        day += timedelta(days=1)


def test_it_is_what_the_clocks_need() -> None:
    cal: WorkingCalendar = SHIPPED  # mypy checks the protocol
    assert cal.working_seconds(at("2026-03-02 00:00"), at("2026-03-03 00:00")) == 24 * H


def row(*args: object, cal: WorkingDayCalendar = SHIPPED) -> object:
    """A table row: its last value, the reason, names it; its calendar comes first."""
    *values, why = args
    return pytest.param(cal, *values, id=str(why))


F = WITH_2027

DEADLINES = [
    # start (CST), n, deadline (CST): why
    row("2026-02-13 15:00", 1, "2026-02-14 24:00", "Fri pm, 1: Sat 14 Feb is worked (调休)"),
    row("2026-02-13 15:00", 2, "2026-02-24 24:00", "Fri pm, 2: 15-23 Feb off, Tue 24"),
    row("2026-02-12 10:00", 3, "2026-02-24 24:00", "Thu, 3: Fri 13, Sat 14, Tue 24"),
    row("2026-02-18 09:00", 1, "2026-02-24 24:00", "on a holiday, 1: Tue 24"),
    row("2026-02-18 09:00", 7, "2026-03-03 24:00", "on a holiday, 7: 24-28 (Sat 28 worked), 2, 3"),
    row("2026-02-14 08:00", 1, "2026-02-24 24:00", "on worked Sat 14 Feb: it never counts"),
    row("2025-09-28 10:00", 1, "2025-09-29 24:00", "on worked Sun 28 Sep, 1: Mon 29"),
    row("2025-09-28 10:00", 3, "2025-10-09 24:00", "on worked Sun 28 Sep, 3: 29, 30 Sep, 9 Oct"),
    row("2025-09-30 17:00", 1, "2025-10-09 24:00", "国庆 2025, 1: 1-8 Oct off, Thu 9"),
    row("2025-09-30 17:00", 3, "2025-10-11 24:00", "国庆 2025, 3: 9, 10, worked Sat 11"),
    row("2025-10-11 09:00", 1, "2025-10-13 24:00", "on worked Sat 11 Oct, 1: Mon 13"),
    row("2026-09-19 12:00", 1, "2026-09-20 24:00", "plain Sat, 1: worked Sun 20 Sep"),
    row("2026-09-24 16:00", 3, "2026-09-30 24:00", "中秋 2026, 3: 25-27 Sep off, 28-30"),
    row("2026-09-24 16:00", 4, "2026-10-08 24:00", "中秋+国庆 2026, 4: 1-7 Oct off, Thu 8"),
    row("2026-09-24 16:00", 6, "2026-10-10 24:00", "中秋+国庆 2026, 6: 8, 9, worked Sat 10"),
    row("2026-09-24 16:00", 15, "2026-10-22 24:00", "15 over both: 28-30, 8-10, 12-16, 19-22"),
    row("2026-03-02 00:00", 1, "2026-03-03 24:00", "Mon 00:00: still the start day, not counted"),
    row("2026-03-06 23:59:59.999999", 1, "2026-03-09 24:00", "Fri's last microsecond, 1: Mon"),
    row("2026-12-30 10:00", 3, "2027-01-04 24:00", "into unknown 2027: 31 Dec, Fri 1 Jan, Mon 4"),
    row("2027-02-04 10:00", 1, "2027-02-05 24:00", "unknown 2027: Fri 5 Feb guessed working"),
    # the same with the example file's 2027
    row("2026-12-30 10:00", 3, "2027-01-05 24:00", "file: 31 Dec, 1-3 Jan off, 4, 5", cal=F),
    row("2027-02-04 10:00", 1, "2027-02-15 24:00", "file: 5-14 Feb off, Mon 15", cal=F),
    row("2027-02-04 10:00", 6, "2027-02-20 24:00", "file: 15-19, worked Sat 20", cal=F),
    row("2027-09-30 10:00", 2, "2027-10-09 24:00", "file 国庆: Fri 8, worked Sat 9", cal=F),
]


@pytest.mark.parametrize(("cal", "start", "n", "deadline"), DEADLINES)
def test_working_days_deadline(cal: WorkingDayCalendar, start: str, n: int, deadline: str) -> None:
    got = cal.working_days_deadline(at(start), n)
    assert got == at(deadline)
    assert got.tzinfo is UTC
    # The deadline is also where the clock's own working time runs out.
    assert cal.advance_working(at(start), cal.working_time(at(start), got)) == got


def test_the_start_day_is_the_cst_one() -> None:
    # Friday 16:30 UTC is Saturday 00:30 CST: the start day is Saturday, so Monday is the first.
    start = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    assert SHIPPED.working_days_deadline(start, 1) == at("2026-03-09 24:00")
    new_york = timezone(timedelta(hours=-5))
    friday_pm = datetime(2026, 2, 13, 2, tzinfo=new_york)  # Fri 15:00 CST
    assert SHIPPED.working_days_deadline(friday_pm, 1) == at("2026-02-14 24:00")


WORKING_TIME = [
    # a (CST), b (CST), working hours of [a, b): why
    row("2026-02-13 15:00", "2026-02-24 15:00", 48, "Fri 9 h + worked Sat 14 Feb 24 + Tue 15"),
    row("2026-02-21 10:00", "2026-02-22 10:00", 0, "inside 春节: nothing"),
    row("2026-02-12 00:00", "2026-03-01 00:00", 8 * 24, "12-14 Feb, 24-28 Feb: 8 days"),
    row("2025-09-27 12:00", "2025-09-29 06:00", 30, "Sat 0 + worked Sun 28 Sep 24 + Mon 6"),
    row("2025-09-30 12:00", "2025-10-09 12:00", 24, "国庆 2025: 12 + 12"),
    row("2026-03-03 12:00", "2026-03-03 09:00", 0, "reversed: zero"),
    row("2026-12-31 12:00", "2027-01-04 12:00", 48, "unknown 2027: 12 + Fri 1 Jan 24 + Mon 12"),
    row("2026-12-31 12:00", "2027-01-04 12:00", 24, "file: 1-3 Jan off", cal=F),
    row("2027-02-04 12:00", "2027-02-15 24:00", 36, "file: Thu 12 + Mon 15 Feb 24", cal=F),
]


@pytest.mark.parametrize(("cal", "a", "b", "hours"), WORKING_TIME)
def test_working_seconds(cal: WorkingDayCalendar, a: str, b: str, hours: int) -> None:
    assert cal.working_seconds(at(a), at(b)) == hours * H
    assert cal.working_time(at(a), at(b)) == timedelta(hours=hours)


ADVANCES = [
    # a (CST), working seconds, the earliest instant with that much working time since a: why
    row("2026-02-13 15:00", 9 * H, "2026-02-13 24:00", "Fri 15:00 + 9 h: Friday's 24:00"),
    row("2026-02-13 15:00", 33 * H, "2026-02-14 24:00", "+ 33 h: worked Sat's 24:00, not 24 Feb"),
    row("2026-02-13 15:00", 33 * H + 1e-6, "2026-02-24 00:00:00.000001", "+ 1 us: into 24 Feb"),
    row("2026-02-13 15:00", 0.8 * 33 * H, "2026-02-14 17:24", "80 % of 1 working day from Fri pm"),
    row("2026-02-18 09:00", H, "2026-02-24 01:00", "from a holiday: from Tue 24 Feb 00:00"),
    row("2026-02-18 09:00", 0, "2026-02-18 09:00", "zero: the start itself, even on a holiday"),
    row("2025-09-28 22:00", 3 * H, "2025-09-29 01:00", "worked Sun 22:00 + 3 h: Mon 01:00"),
    row("2025-09-30 20:00", 5 * H, "2025-10-09 01:00", "30 Sep 20:00 + 5 h: 4 h, then 9 Oct"),
    row("2026-12-31 18:00", 7 * H, "2027-01-01 01:00", "into unknown 2027: Fri 1 Jan guessed"),
    row("2026-12-31 18:00", 7 * H, "2027-01-04 01:00", "file: 1-3 Jan off", cal=F),
]


@pytest.mark.parametrize(("cal", "a", "seconds", "result"), ADVANCES)
def test_advance_working(cal: WorkingDayCalendar, a: str, seconds: float, result: str) -> None:
    got = cal.advance_working(at(a), seconds)
    assert got == at(result)
    assert got.tzinfo is UTC
    assert cal.working_time(at(a), got) == timedelta(seconds=seconds)


def test_advance_by_a_timedelta_is_exact() -> None:
    a = at("2026-02-13 23:59:59.999999")
    assert SHIPPED.advance_working(a, timedelta(hours=24, microseconds=2)) == at(
        "2026-02-24 00:00:00.000001"
    )


def test_unknown_years_are_reported() -> None:
    assert not SHIPPED.is_known(date(2027, 1, 1))
    assert SHIPPED.is_known(date(2026, 12, 31))
    assert not SHIPPED.is_known(date(2003, 12, 31))
    assert SHIPPED.is_known(at("2026-12-31 23:00"))
    assert not SHIPPED.is_known(datetime(2026, 12, 31, 16, tzinfo=UTC))  # 1 Jan 2027 00:00 CST
    start = at("2026-12-30 10:00")
    deadline = SHIPPED.working_days_deadline(start, 3)
    assert SHIPPED.unknown_years_between(start, deadline) == (2027,)
    assert WITH_2027.unknown_years_between(start, deadline) == ()
    # [a, b) up to 24:00 of 31 Dec does not touch 2027.
    assert SHIPPED.unknown_years_between(at("2026-12-01 00:00"), at("2027-01-01 00:00")) == ()
    assert SHIPPED.unknown_years_between(at("2027-01-01 00:00"), at("2026-12-01 00:00")) == ()
    assert SHIPPED.unknown_years_between(at("2003-06-01 00:00"), at("2029-01-02 00:00")) == (
        2003,
        2027,
        2028,
        2029,
    )


def test_unknown_years_count_monday_to_friday() -> None:
    week = [date(2028, 1, 3) + timedelta(days=i) for i in range(7)]  # Monday to Sunday
    assert [SHIPPED.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_a_datetime_is_taken_on_its_cst_day() -> None:
    # 2026-02-14 16:30 UTC is Sunday 15 Feb 00:30 CST: a holiday, though its UTC date was worked.
    assert not SHIPPED.is_working_day(datetime(2026, 2, 14, 16, 30, tzinfo=UTC))
    assert SHIPPED.is_working_day(datetime(2026, 2, 14, 15, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: SHIPPED.working_days_deadline(at("2026-03-02 00:00"), 0), id="n = 0"),
        pytest.param(lambda: SHIPPED.advance_working(at("2026-03-02 00:00"), -1), id="negative"),
        pytest.param(
            lambda: SHIPPED.working_seconds(datetime(2026, 3, 2), at("2026-03-03 00:00")),  # noqa: DTZ001
            id="naive",
        ),
        pytest.param(lambda: SHIPPED.is_known(datetime(2026, 3, 2)), id="naive day"),  # noqa: DTZ001
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"at least 1|negative|no time zone"):
        call()
