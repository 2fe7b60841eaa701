"""Urgency and time limits (时限) of caseloop.md, as data.

- ``emergency``: a member of an open group_dispute or mass_report alert, or
  people_involved >= 10: accept within 1 hour, contact 4 hours, resolve 3 working days;
- ``urgent``: wage_arrears, work_injury, occupational_safety: 1, 2 and 7 working days;
- ``general``: any other: 1, 3 and 15 working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from schemas.caseloop import ClockName, Urgency
from schemas.complaint import Category

Unit = Literal["hours", "working_days"]

EMERGENCY_PEOPLE = 10
URGENT_CATEGORIES = frozenset(
    {Category.WAGE_ARREARS, Category.WORK_INJURY, Category.OCCUPATIONAL_SAFETY}
)
# A resolved case with no visit closes on its own after this long (calendar days).
AUTO_CLOSE_AFTER = timedelta(days=15)
# A new report this soon after a resolve reopens the case.
REOPEN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Limit:
    """How long a clock may run: ``amount`` hours, or ``amount`` working days."""

    unit: Unit
    amount: int


LIMITS: dict[Urgency, dict[ClockName, Limit]] = {
    Urgency.EMERGENCY: {
        ClockName.ACCEPT: Limit("hours", 1),
        ClockName.CONTACT: Limit("hours", 4),
        ClockName.RESOLVE: Limit("working_days", 3),
    },
    Urgency.URGENT: {
        ClockName.ACCEPT: Limit("working_days", 1),
        ClockName.CONTACT: Limit("working_days", 2),
        ClockName.RESOLVE: Limit("working_days", 7),
    },
    Urgency.GENERAL: {
        ClockName.ACCEPT: Limit("working_days", 1),
        ClockName.CONTACT: Limit("working_days", 3),
        ClockName.RESOLVE: Limit("working_days", 15),
    },
}


def urgency_of(category: Category, people_involved: int, in_open_alert: bool) -> Urgency:
    """The urgency of a case from its category, head-count and alert membership."""
    if in_open_alert or people_involved >= EMERGENCY_PEOPLE:
        return Urgency.EMERGENCY
    if category in URGENT_CATEGORIES:
        return Urgency.URGENT
    return Urgency.GENERAL
