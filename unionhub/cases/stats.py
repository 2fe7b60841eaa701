"""The figures of a period as the API and the CLI give them: ``week`` or ``month`` in CST.

The numbers come from :func:`caseloop.figures.compute` over the case store (or
``cases.state``); here only the period's bounds and the JSON shape are decided:
every ratio as ``{"numerator", "denominator", "value"}`` so nothing is rounded
away, ``value`` null when nothing counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from caseloop.clocks import WorkingCalendar
from caseloop.figures import Figures, Ratio, compute
from schemas.caseloop import CaseState

CST = timezone(timedelta(hours=8), "CST")
Period = Literal["week", "month"]
RATIOS = (
    "accept_rate",
    "accept_on_time_rate",
    "resolve_rate",
    "resolve_on_time_rate",
    "satisfaction_rate",
    "repeat_rate",
)
COUNTS = (
    "dispatched",
    "accepted",
    "resolved",
    "visits",
    "overdue_now",
    "reopened",
    "returned",
)


def period_bounds(period: Period, at: datetime) -> tuple[datetime, datetime]:
    """The ISO week (Monday 00:00 CST) or calendar month (1st 00:00 CST) holding ``at``."""
    local = at.astimezone(CST)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = day - timedelta(days=local.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def figures_for(
    cases: Iterable[CaseState], period: Period, at: datetime, now: datetime, cal: WorkingCalendar
) -> tuple[datetime, datetime, dict[str, Figures]]:
    """The period holding ``at`` and every scope's figures, evaluated at ``now``."""
    start, end = period_bounds(period, at)
    return start, end, compute(cases, start, end, now, cal)


def figures_json(scope: Figures) -> dict[str, Any]:
    """One scope's figures as plain JSON."""
    body: dict[str, Any] = {name: getattr(scope, name) for name in COUNTS}
    body.update({name: _ratio(getattr(scope, name)) for name in RATIOS})
    body["open_by_age"] = dict(scope.open_by_age)
    for which in ("accept", "resolve"):
        for q, label in ((0.5, "median"), (0.9, "p90")):
            body[f"{label}_hours_to_{which}"] = scope.percentile_hours(which, q)
    return body


def _ratio(ratio: Ratio) -> dict[str, Any]:
    return {"numerator": ratio.numerator, "denominator": ratio.denominator, "value": ratio.value}
