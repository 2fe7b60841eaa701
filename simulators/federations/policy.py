"""What a federation does next with a case, given the case's state: one step, or nothing.

:func:`next_step` is pure: from a :class:`~schemas.caseloop.CaseState` (as the
REST API returned it), the actor and its seed, it gives the next action and the
loop time at which to take it, or None when the actor has nothing (more) to do
with the case: it closed, it left the district, it is waiting on nobody but
the loop itself (never accepted, never visited). Everything is derived again
from the state every time, so a reopening, an emergency that shortened the
clocks or a case that moved in the meantime is simply the new situation.

Times of a step come from the case's own clocks (:mod:`simulators.federations.mix`
says which fraction of which limit); a step whose time has passed is due now.
Each step has a deterministic ``action_id``,
``sim-<actor>-<case_id>-<run>-<action>``, so a retry re-sends the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from caseloop.clocks import WorkingCalendar
from schemas.caseloop import (
    CITY_DESK,
    ActionKind,
    CaseState,
    CaseStatus,
    ClockName,
    ClockView,
    HistoryEntry,
    ResolveResult,
    Satisfaction,
)
from schemas.shenzhen import DISTRICT_BY_SLUG
from simulators.federations.mix import (
    ASSIGN_REASON,
    CONTACT_REASON,
    MIX,
    RESOLVE_REASONS,
    Mix,
    return_reason,
)
from simulators.federations.plan import Fate, RunPlan, draw

WORKING_DAY_S = 86_400.0  # a working day counts its 24 hours, as the loop's clocks do


@dataclass(frozen=True)
class Step:
    """One action to take on one case at loop time ``at`` (or as soon as possible after)."""

    case_id: str
    action: ActionKind
    at: datetime
    action_id: str
    result: ResolveResult | None = None
    to_district: str | None = None
    satisfaction: Satisfaction | None = None
    reason: str | None = None

    def body(self, now: datetime) -> dict[str, Any]:
        """The REST body of the step, acted at loop time ``now``."""
        fields: dict[str, Any] = {
            "action_id": self.action_id,
            "action": self.action.value,
            "at": now.isoformat(),
            "result": self.result,
            "to_district": self.to_district,
            "satisfaction": self.satisfaction,
            "reason": self.reason,
        }
        return {k: str(v) for k, v in fields.items() if v is not None}


def action_id(actor: str, case_id: str, run: int, action: ActionKind) -> str:
    """The idempotency key of ``actor``'s ``action`` in run ``run`` of ``case_id``."""
    return f"sim-{actor}-{case_id}-{run}-{action.value}"


def next_step(
    seed: int, actor: str, case: CaseState, cal: WorkingCalendar, mix: Mix = MIX
) -> Step | None:
    """The next thing ``actor`` (a district slug or ``city``) does with ``case``, if any."""
    if actor == CITY_DESK:
        return _desk_step(seed, case, cal, mix)
    if case.district != actor:
        return None
    run = len(case.runs)
    plan = draw(seed, actor, case.case_id, run, mix)
    status = case.status
    if status is CaseStatus.DISPATCHED:
        return _first_step(actor, case, plan, cal, run)
    if status is CaseStatus.ACCEPTED:
        contact = _fraction_at(cal, case.clocks.get(ClockName.CONTACT), plan.contact_frac)
        return _step(actor, case, run, ActionKind.CONTACT, contact, reason=CONTACT_REASON)
    if status is CaseStatus.IN_PROGRESS:
        return _progress_step(actor, case, plan, cal, run)
    if status is CaseStatus.SUSPENDED:
        suspended = _entry(case, action_id(actor, case.case_id, run, ActionKind.SUSPEND))
        since = suspended.at if suspended is not None else case.updated_at
        days = plan.suspension.days if plan.suspension is not None else 1.0
        return _step(
            actor, case, run, ActionKind.RESUME, cal.advance_working(since, days * WORKING_DAY_S)
        )
    if status is CaseStatus.RESOLVED and plan.visit_after_days is not None:
        resolved = case.resolved_at or case.updated_at
        visit = cal.advance_working(resolved, plan.visit_after_days * WORKING_DAY_S)
        return _step(actor, case, run, ActionKind.VISIT, visit, satisfaction=plan.satisfaction)
    return None  # closed, returned, or resolved and left to close on its own


def _first_step(
    actor: str, case: CaseState, plan: RunPlan, cal: WorkingCalendar, run: int
) -> Step | None:
    accept_clock = case.clocks.get(ClockName.ACCEPT)
    assigned = any(entry.action == ActionKind.ASSIGN.value for entry in case.history)
    if plan.fate is Fate.NEVER:
        return None
    if plan.fate is Fate.RETURN and not assigned:
        name = DISTRICT_BY_SLUG[plan.suggest].name
        at = _fraction_at(cal, accept_clock, plan.return_frac)
        return _step(
            actor,
            case,
            run,
            ActionKind.RETURN,
            at,
            to_district=plan.suggest,
            reason=return_reason(name),
        )
    at = _fraction_at(cal, accept_clock, plan.accept_frac)
    return _step(actor, case, run, ActionKind.ACCEPT, at)


def _progress_step(
    actor: str, case: CaseState, plan: RunPlan, cal: WorkingCalendar, run: int
) -> Step | None:
    """In progress: suspend first if the plan says so and it has not happened, else resolve."""
    if not case.runs:
        return None
    started = case.runs[-1].started_at
    clock = case.clocks.get(ClockName.RESOLVE)
    if clock is None or clock.due_at is None:
        return None
    unit = clock.unit
    paused = sum(_measure(cal, unit, a, b) for a, b in _pauses(case, started))
    budget = _measure(cal, unit, started, clock.due_at) - paused
    suspended = _entry(case, action_id(actor, case.case_id, run, ActionKind.SUSPEND))
    if plan.suspension is not None and suspended is None:
        at = _advance(cal, unit, started, plan.suspension.at_frac * plan.resolve_frac * budget)
        return _step(actor, case, run, ActionKind.SUSPEND, at, reason=plan.suspension.reason)
    at = _advance(cal, unit, started, plan.resolve_frac * budget + paused)
    return _step(
        actor,
        case,
        run,
        ActionKind.RESOLVE,
        at,
        result=plan.result,
        reason=RESOLVE_REASONS[plan.result],
    )


def _desk_step(seed: int, case: CaseState, cal: WorkingCalendar, mix: Mix) -> Step | None:
    """The city desk assigns what sits in triage: a returned case, or one no rule placed."""
    if case.district is not None:
        return None
    run = len(case.runs)
    plan = draw(seed, CITY_DESK, case.case_id, run, mix)
    if case.status is CaseStatus.RETURNED:
        returned = next((e for e in reversed(case.history) if e.action == "return"), None)
        if returned is None:
            return None
        to = draw(seed, returned.actor, case.case_id, run, mix).suggest
        since = returned.at
    elif case.status is CaseStatus.DISPATCHED:
        to, since = plan.assign_to, case.dispatched_at
    else:
        return None
    at = cal.advance_working(since, plan.assign_after_days * WORKING_DAY_S)
    return _step(CITY_DESK, case, run, ActionKind.ASSIGN, at, to_district=to, reason=ASSIGN_REASON)


def _step(
    actor: str,
    case: CaseState,
    run: int,
    action: ActionKind,
    at: datetime | None,
    **fields: Any,
) -> Step:
    # A clock that is not running (it cannot happen in a state the step fits) means: now.
    when = at if at is not None else case.updated_at
    return Step(case.case_id, action, when, action_id(actor, case.case_id, run, action), **fields)


def _entry(case: CaseState, wanted: str) -> HistoryEntry | None:
    return next((e for e in case.history if e.action_id == wanted), None)


def _pauses(case: CaseState, since: datetime) -> list[tuple[datetime, datetime]]:
    """The suspended spans of the current run (suspend to resume), from the history."""
    spans: list[tuple[datetime, datetime]] = []
    start: datetime | None = None
    for entry in case.history:
        if entry.at < since:
            continue
        if entry.action == ActionKind.SUSPEND.value:
            start = entry.at
        elif entry.action == ActionKind.RESUME.value and start is not None:
            spans.append((start, entry.at))
            start = None
    return spans


def _fraction_at(cal: WorkingCalendar, clock: ClockView | None, frac: float) -> datetime | None:
    """When ``frac`` of the running ``clock``'s time has passed since its start."""
    if clock is None or clock.started_at is None or clock.due_at is None:
        return None
    budget = _measure(cal, clock.unit, clock.started_at, clock.due_at)
    return _advance(cal, clock.unit, clock.started_at, frac * budget)


def _measure(cal: WorkingCalendar, unit: str, a: datetime, b: datetime) -> float:
    if b <= a:
        return 0.0
    return (b - a).total_seconds() if unit == "hours" else cal.working_seconds(a, b)


def _advance(cal: WorkingCalendar, unit: str, a: datetime, seconds: float) -> datetime:
    seconds = max(seconds, 0.0)
    if unit == "hours":
        return a + timedelta(seconds=seconds)
    return cal.advance_working(a, seconds)
