"""The loop's numbers, as caseloop.md states them (the checker's own copy, not caseloop's).

Time limits per urgency and clock, what makes a case urgent or an emergency,
the supervision levels, the auto-close and reopen windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Unit = Literal["hours", "working_days"]


@dataclass(frozen=True)
class Limit:
    """``amount`` calendar hours, or ``amount`` working days."""

    unit: Unit
    amount: int


ACCEPT, CONTACT, RESOLVE = "accept", "contact", "resolve"
CLOCKS = (ACCEPT, CONTACT, RESOLVE)
EMERGENCY, URGENT, GENERAL = "emergency", "urgent", "general"

LIMITS: dict[str, dict[str, Limit]] = {
    EMERGENCY: {
        ACCEPT: Limit("hours", 1),
        CONTACT: Limit("hours", 4),
        RESOLVE: Limit("working_days", 3),
    },
    URGENT: {
        ACCEPT: Limit("working_days", 1),
        CONTACT: Limit("working_days", 2),
        RESOLVE: Limit("working_days", 7),
    },
    GENERAL: {
        ACCEPT: Limit("working_days", 1),
        CONTACT: Limit("working_days", 3),
        RESOLVE: Limit("working_days", 15),
    },
}

URGENT_CATEGORIES = frozenset({"wage_arrears", "work_injury", "occupational_safety"})
EMERGENCY_PEOPLE = 10

# (level name, fraction of the clock's time)
LEVELS: tuple[tuple[str, float], ...] = (("warning", 0.8), ("overdue", 1.0), ("escalated", 2.0))
REOPENED, DISSATISFIED = "reopened", "dissatisfied"

AUTO_CLOSE_AFTER = timedelta(days=15)
REOPEN_WITHIN = timedelta(days=30)
CLOSING_ANSWERS = frozenset({"satisfied", "basically_satisfied", "unreachable"})
SATISFIED_ANSWERS = frozenset({"satisfied", "basically_satisfied"})


def urgency_at_dispatch(category: str, people_involved: int) -> str:
    """The urgency a case has when dispatched, before any risk alert takes it in."""
    if people_involved >= EMERGENCY_PEOPLE:
        return EMERGENCY
    return URGENT if category in URGENT_CATEGORIES else GENERAL
