"""The admin's calendar file: the official schedule of years the shipped calendar lacks or errs on.

The file is YAML (JSON, being YAML too, works as well): one entry per year, with
that year's public holidays and its adjusted working days (调休上班, the
weekend days worked in exchange). An entry is the year's whole schedule: for a
year it lists, :class:`caseloop.calendar.WorkingDayCalendar` ignores the shipped
calendar and takes Monday to Friday as working days except the ``holidays``,
and Saturday and Sunday as days off except the ``workdays``.

Example (made-up dates in the State Council's usual pattern, not the published
2027 schedule)::

    years:
      2027:
        notice: 国务院办公厅关于2027年部分节假日安排的通知 (example)
        holidays:
          - 2027-01-01  # 元旦, Friday to Sunday
          - 2027-01-02
          - 2027-01-03
          - 2027-02-05  # 春节: 除夕 (Friday) to Saturday 13 February
          - 2027-02-06
          - 2027-02-07
          - 2027-02-08
          - 2027-02-09
          - 2027-02-10
          - 2027-02-11
          - 2027-02-12
          - 2027-02-13
          - 2027-10-01  # 国庆: Friday 1 to Thursday 7 October
          - 2027-10-02
          - 2027-10-03
          - 2027-10-04
          - 2027-10-05
          - 2027-10-06
          - 2027-10-07
        workdays:
          - 2027-01-31  # Sunday, for 春节
          - 2027-02-20  # Saturday, for 春节
          - 2027-09-26  # Sunday, for 国庆
          - 2027-10-09  # Saturday, for 国庆

What is refused, each with a :class:`core.errors.ConfigError` naming the
culprit (``years.2027.holidays[3]: 2027-13-01 is not a date (YYYY-MM-DD)``):

- text that is not YAML, or a shape other than the above (unknown keys too);
- a year that is not a whole number from 1 to 9999;
- a value that is not a ``YYYY-MM-DD`` date;
- a date listed under another year than its own (list 2026-12-31 under 2026,
  even when the notice of 2027 is where it was announced);
- a date listed twice, or as both a holiday and a working day;
- a working day from Monday to Friday: it is a working day anyway, so listing
  it is most likely a mistyped weekend date, and a silent typo would move every
  deadline around it;
- a year with no holiday: no official year has none, so it is an unfinished
  entry that would stop the daemon's warning about an unknown year.

A holiday on a Saturday or Sunday is fine (the notices give whole ranges).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from core.errors import ConfigError

FILE_FIELD = "calendar file"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SATURDAY = 5
_MAX_YEAR = 9999


def _iso_date(value: Any) -> date:
    if type(value) is date:  # not a datetime
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "{value} is not a date (YYYY-MM-DD)", {"value": str(value)})


def _year(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_YEAR:
        return value
    raise PydanticCustomError("year", "{value} is not a year", {"value": str(value)})


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Year = Annotated[int, BeforeValidator(_year)]


class YearSchedule(BaseModel):
    """One year's official schedule: its holidays and its adjusted working days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holidays: tuple[IsoDate, ...]
    workdays: tuple[IsoDate, ...] = ()
    notice: str | None = None  # where the dates come from, for the admin; not used


class CalendarOverrides(BaseModel):
    """The admin's calendar file: a :class:`YearSchedule` per year, checked as a whole.

    Constructing one with bad content raises pydantic's ``ValidationError``;
    :func:`parse_overrides` turns that into a :class:`ConfigError`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    years: dict[Year, YearSchedule]

    @model_validator(mode="after")
    def _consistent(self) -> CalendarOverrides:
        for year, schedule in self.years.items():
            problem = next(_problems(year, schedule), None)
            if problem is not None:
                # A model-level error has no location of its own: ``field`` carries it.
                field, reason = problem
                ctx = {"field": field, "reason": reason}
                raise PydanticCustomError("calendar", "{reason}", ctx)
        return self


def _problems(year: int, schedule: YearSchedule) -> Iterator[tuple[str, str]]:
    if not schedule.holidays:
        yield f"years.{year}.holidays", "none listed: every official year has some (unfinished?)"
    first: dict[date, str] = {}  # each date's first entry
    for name, days in (("holidays", schedule.holidays), ("workdays", schedule.workdays)):
        for i, day in enumerate(days):
            field = f"years.{year}.{name}[{i}]"
            if day.year != year:
                yield field, f"{day} is not in {year}"
            if day in first:
                yield field, f"{day} is already listed, as {first[day]}"
            if name == "workdays" and day.weekday() < _SATURDAY:
                yield field, f"{day} is a {day:%A}, a working day anyway (a weekend day?)"
            first.setdefault(day, field)


class _DatesAsText(yaml.SafeLoader):
    """``yaml.SafeLoader`` that leaves dates as text, so a bad one is reported, not raised."""


def _as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


# Unquoted 2027-13-01 would otherwise make PyYAML's date constructor raise a bare ValueError
# with no position; as text it reaches the model, which names the entry.
_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", _as_text)


def parse_overrides(text: str) -> CalendarOverrides:
    """The overrides in ``text`` (YAML or JSON), or a :class:`ConfigError` naming the culprit."""
    try:
        data = yaml.load(text, Loader=_DatesAsText)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(FILE_FIELD, f"not YAML or JSON: {exc}") from None
    if data is None:
        raise ConfigError(FILE_FIELD, "is empty")
    try:
        return CalendarOverrides.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        ctx = error.get("ctx") or {}
        field = ctx.get("field") or _field_path(error["loc"])
        raise ConfigError(field, error["msg"]) from None


def _field_path(loc: Sequence[int | str]) -> str:
    """``("years", 2027, "holidays", 3)`` as ``years.2027.holidays[3]``."""
    if not loc:
        return FILE_FIELD
    path = str(loc[0])
    for i, part in enumerate(loc[1:], start=1):
        if part == "[key]":  # pydantic's marker of a bad mapping key: the key is the part before
            continue
        if isinstance(part, int) and loc[i - 1] != "years":
            path += f"[{part}]"
        else:
            path += f".{part}"
    return path
