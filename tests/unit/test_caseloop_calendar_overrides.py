"""The admin's calendar file: its example parses, bad input is refused naming the culprit, and a
year it lists replaces the shipped calendar's."""

from __future__ import annotations

import json
import textwrap
from datetime import date

import pytest
from pydantic import ValidationError

import caseloop.calendar_overrides as overrides_module
from caseloop.calendar import WorkingDayCalendar
from caseloop.calendar_overrides import CalendarOverrides, parse_overrides
from core.errors import ConfigError


def example_overrides() -> CalendarOverrides:
    """The example of the module docstring (2027), parsed: the docs cannot drift from the code."""
    doc = overrides_module.__doc__ or ""
    block = doc.split("::", 1)[1].split("\nWhat is refused", 1)[0]
    return parse_overrides(textwrap.dedent(block))


def test_the_docstring_example_parses() -> None:
    schedule = example_overrides().years[2027]
    assert len(schedule.holidays) == 19
    assert date(2027, 2, 5) in schedule.holidays  # 除夕
    assert schedule.workdays == (
        date(2027, 1, 31),
        date(2027, 2, 20),
        date(2027, 9, 26),
        date(2027, 10, 9),
    )


def test_json_is_read_too_with_years_as_strings() -> None:
    text = json.dumps(
        {"years": {"2027": {"holidays": ["2027-10-01", "2027-10-02"], "workdays": ["2027-09-26"]}}}
    )
    assert parse_overrides(text).years[2027].workdays == (date(2027, 9, 26),)


def test_a_holiday_on_a_weekend_is_fine() -> None:
    # 2027-10-02 and -03 are Saturday and Sunday: the notices give whole ranges.
    parse_overrides("years: {2027: {holidays: [2027-10-01, 2027-10-02, 2027-10-03]}}")


def _year(holidays: str, workdays: str = "[]") -> str:
    return f"years:\n  2027:\n    holidays: {holidays}\n    workdays: {workdays}\n"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        pytest.param(
            _year("[2027-01-01, 2027-01-02, 2027-01-03, 2027-13-01]"),
            "years.2027.holidays[3]",
            "2027-13-01 is not a date",
            id="month 13",
        ),
        pytest.param(
            _year("[2027-02-30]"), "years.2027.holidays[0]", "2027-02-30 is not a date", id="30 Feb"
        ),
        pytest.param(
            _year("[20270101]"), "years.2027.holidays[0]", "20270101 is not a date", id="no dashes"
        ),
        pytest.param(
            _year("[2027-01-01 08:00:00]"),
            "years.2027.holidays[0]",
            "is not a date",
            id="a time, not a date",
        ),
        pytest.param(
            _year("[2027-01-01]", "[2027-01-02, 2027-01-01]"),
            "years.2027.workdays[1]",
            "already listed, as years.2027.holidays[0]",
            id="holiday and working day",
        ),
        pytest.param(
            _year("[2027-01-01, 2027-01-01]"),
            "years.2027.holidays[1]",
            "already listed",
            id="twice",
        ),
        pytest.param(
            _year("[2027-01-01, 2028-01-01]"),
            "years.2027.holidays[1]",
            "2028-01-01 is not in 2027",
            id="another year's date",
        ),
        pytest.param(
            _year("[2027-01-01]", "[2027-01-04]"),
            "years.2027.workdays[0]",
            "is a Monday, a working day anyway",
            id="working day on a weekday",
        ),
        pytest.param(_year("[]"), "years.2027.holidays", "none listed", id="no holiday"),
        pytest.param(
            "years: {2027: {holidays: [2027-01-01], holydays: []}}",
            "years.2027.holydays",
            "Extra inputs",
            id="unknown key",
        ),
        pytest.param(
            "years: {MMXXVII: {holidays: [2027-01-01]}}",
            "years.MMXXVII",
            "is not a year",
            id="not a year",
        ),
        pytest.param(
            "years: {2027: {holidays: 2027-01-01}}",
            "years.2027.holidays",
            "valid tuple",
            id="not a list",
        ),
        pytest.param("years: [2027]", "years", "valid dictionary", id="years not a mapping"),
        pytest.param("", "calendar file", "is empty", id="empty"),
        pytest.param("years: [2027", "calendar file", "not YAML or JSON", id="not YAML"),
    ],
)
def test_bad_input_is_refused_naming_the_culprit(text: str, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_overrides(text)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_built_in_code_the_model_checks_the_same() -> None:
    with pytest.raises(ValidationError, match="is not in 2027"):
        CalendarOverrides.model_validate({"years": {2027: {"holidays": [date(2026, 1, 1)]}}})


def test_a_listed_year_replaces_the_shipped_one() -> None:
    # A "correction" of 2026 listing only 元旦: Spring Festival week becomes working days, and the
    # adjusted Saturday before it (14 Feb, shipped as a working day) a day off again.
    corrected = parse_overrides("years: {2026: {holidays: [2026-01-01, 2026-01-02]}}")
    shipped, cal = WorkingDayCalendar(), WorkingDayCalendar(corrected)
    assert not shipped.is_working_day(date(2026, 2, 16))
    assert cal.is_working_day(date(2026, 2, 16))
    assert shipped.is_working_day(date(2026, 2, 14))
    assert not cal.is_working_day(date(2026, 2, 14))
    assert not cal.is_working_day(date(2026, 1, 2))
    assert cal.is_known(date(2026, 2, 16))


def test_a_listed_year_is_known_and_follows_the_file() -> None:
    cal = WorkingDayCalendar(example_overrides())
    assert cal.is_known(date(2027, 6, 1))
    assert not cal.is_working_day(date(2027, 2, 8))  # Monday in 春节
    assert cal.is_working_day(date(2027, 2, 20))  # adjusted Saturday
    assert cal.is_working_day(date(2027, 6, 1))  # a Tuesday not listed
    assert not cal.is_working_day(date(2027, 6, 5))  # a Saturday not listed
    assert not WorkingDayCalendar().is_known(date(2027, 6, 1))
