"""The transitions of caseloop.md: which action fits which case, and what it changes.

:func:`open_case` starts a dispatched case's loop; :func:`apply_action` applies a
district's or the city desk's action, or refuses it with a :class:`Refusal`
naming the reason; :func:`on_new_report`, :func:`on_emergency` and
:func:`auto_close` are the loop's own events. Every function is pure: it
returns the new :class:`LoopCase` and the :class:`Signal` s the caller turns
into dispatch events and SLA alerts.

- dispatched --accept--> accepted (accept met);
- accepted --contact--> in_progress (contact met);
- accepted, in_progress --suspend--> suspended --resume--> the state before
  (resolve paused, then running);
- accepted, in_progress --resolve--> resolved (resolve met, contact too if not yet);
- dispatched, accepted, in_progress --return--> returned, in triage (all stopped);
- returned, or a triage case --assign (city)--> dispatched in the new district
  (all clocks start anew there);
- resolved --visit satisfied, basically satisfied, unreachable--> closed;
- resolved --visit dissatisfied--> in_progress, reopened (a new resolve clock);
- resolved, closed --a new report within 30 days of resolve--> in_progress,
  reopened (a new resolve clock);
- resolved --15 days without a visit--> closed.

``note`` is allowed in every state. Where the contract is silent: the city
desk may take any action on any case (a district only on its own); an
action's time is its ``at``, but never later than the moment it is applied
nor earlier than the case's last change; a case in triage has no clocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from caseloop.case import Entry, LoopCase, Run
from caseloop.clocks import Clock, WorkingCalendar, meet, pause, resume, shorten, start_clock
from caseloop.limits import AUTO_CLOSE_AFTER, LIMITS, REOPEN_WINDOW
from schemas.caseloop import (
    CITY_DESK,
    ActionKind,
    CaseAction,
    CaseStatus,
    ClockName,
    SlaLevel,
    Urgency,
)
from schemas.complaint import Category

_S = CaseStatus
_A = ActionKind

ALLOWED: dict[ActionKind, frozenset[CaseStatus]] = {
    _A.ACCEPT: frozenset({_S.DISPATCHED}),
    _A.CONTACT: frozenset({_S.ACCEPTED}),
    _A.SUSPEND: frozenset({_S.ACCEPTED, _S.IN_PROGRESS}),
    _A.RESUME: frozenset({_S.SUSPENDED}),
    _A.RESOLVE: frozenset({_S.ACCEPTED, _S.IN_PROGRESS}),
    _A.RETURN: frozenset({_S.DISPATCHED, _S.ACCEPTED, _S.IN_PROGRESS}),
    _A.ASSIGN: frozenset({_S.RETURNED, _S.DISPATCHED}),  # dispatched: a triage case only
    _A.VISIT: frozenset({_S.RESOLVED}),
    _A.NOTE: frozenset(CaseStatus),
}
SATISFIED = frozenset({"satisfied", "basically_satisfied", "unreachable"})


class RefusalKind(StrEnum):
    """Why an action was refused (the REST status and the dead letter's kind follow it)."""

    UNKNOWN_CASE = "unknown_case"
    ACTOR = "actor"
    STATE = "state"
    MISSING_FIELD = "missing_field"


@dataclass(frozen=True)
class Refusal:
    """An action that does not fit: what kind of misfit, in words that name the reason."""

    kind: RefusalKind
    message: str


class SignalKind(StrEnum):
    """What the caller must publish after a transition."""

    RETURNED = "returned"  # a case_returned event to dispatch.triage
    ASSIGNED = "assigned"  # a case_assigned event to the new district
    SLA = "sla"  # an alerts.sla record (reopened, dissatisfied)


@dataclass(frozen=True)
class Signal:
    """One thing to publish; ``level`` and ``at`` for SLA signals, ``reason`` for returns."""

    kind: SignalKind
    at: datetime
    level: SlaLevel | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Transition:
    """The case after a transition and what to publish about it."""

    case: LoopCase
    signals: tuple[Signal, ...] = ()


def open_case(
    cal: WorkingCalendar,
    *,
    case_id: str,
    district: str | None,
    category: Category,
    urgency: Urgency,
    people_involved: int,
    street: str | None,
    sources: tuple[tuple[str, str], ...],
    at: datetime,
) -> LoopCase:
    """A newly dispatched case; its clocks start at ``at`` unless it is in triage."""
    case = LoopCase(
        case_id=case_id,
        district=district,
        category=category,
        urgency=urgency,
        status=CaseStatus.DISPATCHED,
        dispatched_at=at,
        people_involved=people_involved,
        street=street,
        sources=sources,
        updated_at=at,
    )
    return _start_all(cal, case, at) if district is not None else case


class Placed(Protocol):
    """What :func:`refusal` reads of a case: a loop state or its public view both have it."""

    @property
    def district(self) -> str | None:
        """The district the case is in (None: triage)."""
        ...

    @property
    def status(self) -> CaseStatus:
        """Where the case stands."""
        ...


def refusal(case: Placed | None, action: CaseAction) -> Refusal | None:
    """Why ``action`` does not fit ``case`` (None: it fits)."""
    if case is None:
        return Refusal(RefusalKind.UNKNOWN_CASE, f"case_id: no case {action.case_id}")
    if action.actor != CITY_DESK and action.actor != case.district:
        whose = f"district {case.district}'s" if case.district else "the city desk's (triage)"
        return Refusal(RefusalKind.ACTOR, f"actor: {action.actor} may not act on {whose} case")
    if action.action is _A.ASSIGN and action.actor != CITY_DESK:
        return Refusal(RefusalKind.ACTOR, "actor: only the city desk assigns cases")
    in_triage = case.district is None
    allowed = ALLOWED[action.action]
    fits = case.status in allowed
    if action.action is _A.ASSIGN and case.status is _S.DISPATCHED:
        fits = in_triage
    elif action.action is not _A.NOTE and in_triage and action.action is not _A.ASSIGN:
        fits = False
    if not fits:
        where = "in triage" if in_triage else f"when the case is {case.status.value}"
        return Refusal(RefusalKind.STATE, f"action: {action.action} is not allowed {where}")
    return None


def apply_action(
    cal: WorkingCalendar, case: LoopCase, action: CaseAction, now: datetime
) -> Transition:
    """``action`` applied to ``case`` (which it must fit: see :func:`refusal`)."""
    at = action_time(case, action, now)
    entry = Entry(
        action.action_id,
        action.action.value,
        action.actor,
        at,
        _detail(action),
        action.reason if action.action is _A.RESOLVE else None,
    )
    case = case.changed(at, history=(*case.history, entry))
    kind = action.action
    if kind is _A.NOTE:
        return Transition(case)
    if kind is _A.ACCEPT:
        return Transition(_meet(case, at, ClockName.ACCEPT, status=_S.ACCEPTED))
    if kind is _A.CONTACT:
        return Transition(_meet(case, at, ClockName.CONTACT, status=_S.IN_PROGRESS))
    if kind is _A.SUSPEND:
        clocks = _with(case, ClockName.RESOLVE, lambda c: pause(cal, c, at))
        suspended = case.changed(at, status=_S.SUSPENDED, before_suspend=case.status, clocks=clocks)
        return Transition(_sync_run(suspended))
    if kind is _A.RESUME:
        clocks = _with(case, ClockName.RESOLVE, lambda c: resume(cal, c, at))
        resumed = case.changed(
            at, status=case.before_suspend or _S.IN_PROGRESS, before_suspend=None, clocks=clocks
        )
        return Transition(_sync_run(resumed))
    if kind is _A.RESOLVE:
        return Transition(_resolve(case, at, action))
    if kind is _A.RETURN:
        clocks = {name: pause(cal, c, at, stop=True) for name, c in case.clocks.items()}
        runs = case.runs
        if runs and runs[-1].resolved_at is None:
            runs = (*runs[:-1], replace(runs[-1], stopped_at=at))
        returned = case.changed(
            at,
            status=_S.RETURNED,
            district=None,
            clocks=clocks,
            runs=runs,
            returned=case.returned + 1,
        )
        return Transition(returned, (Signal(SignalKind.RETURNED, at, reason=action.reason),))
    if kind is _A.ASSIGN:
        assigned = case.changed(
            at,
            status=_S.DISPATCHED,
            district=action.to_district,
            dispatched_at=at,
            restarts=case.restarts + (1 if case.clocks else 0),
        )
        return Transition(_start_all(cal, assigned, at), (Signal(SignalKind.ASSIGNED, at),))
    return _visit(cal, case, at, action)


def on_new_report(cal: WorkingCalendar, case: LoopCase, now: datetime) -> Transition:
    """A worker's new report of this case: it reopens a case resolved within 30 days."""
    if case.status not in (_S.RESOLVED, _S.CLOSED) or case.resolved_at is None:
        return Transition(case)
    if now - case.resolved_at > REOPEN_WINDOW:
        return Transition(case)
    entry = Entry(f"reopen-{case.restarts + 1}", "reopen", "worker", now)
    reopened = _reopen(cal, case.changed(now, history=(*case.history, entry)), now)
    return Transition(reopened, (Signal(SignalKind.SLA, now, level=SlaLevel.REOPENED),))


def on_emergency(cal: WorkingCalendar, case: LoopCase, at: datetime) -> LoopCase:
    """The case became an emergency at ``at`` (an alert took it in): shorter limits."""
    if case.urgency is Urgency.EMERGENCY:
        return case
    limits = LIMITS[Urgency.EMERGENCY]
    clocks = {name: shorten(cal, c, at, limits[name]) for name, c in case.clocks.items()}
    return _sync_run(case.changed(at, urgency=Urgency.EMERGENCY, clocks=clocks))


def auto_close_at(case: LoopCase) -> datetime | None:
    """When a resolved case closes on its own, if it stays unvisited."""
    if case.status is not _S.RESOLVED or case.resolved_at is None:
        return None
    return case.resolved_at + AUTO_CLOSE_AFTER


def auto_close(case: LoopCase, now: datetime) -> LoopCase:
    """The case closed for want of a visit, if its 15 days have passed."""
    due = auto_close_at(case)
    if due is None or now < due:
        return case
    entry = Entry(f"auto-close-{case.restarts}", "auto_close", "unionhub", due)
    return case.changed(now, status=_S.CLOSED, closed_at=due, history=(*case.history, entry))


# --- the steps ---------------------------------------------------------------------


def _start_all(cal: WorkingCalendar, case: LoopCase, at: datetime) -> LoopCase:
    limits = LIMITS[case.urgency]
    clocks = {name: start_clock(cal, limits[name], at) for name in ClockName}
    run = Run(at, clocks[ClockName.RESOLVE].due_at)
    return case.changed(at, clocks=clocks, runs=(*case.runs, run))


def _reopen(cal: WorkingCalendar, case: LoopCase, at: datetime) -> LoopCase:
    clock = start_clock(cal, LIMITS[case.urgency][ClockName.RESOLVE], at)
    return case.changed(
        at,
        status=_S.IN_PROGRESS,
        clocks={**case.clocks, ClockName.RESOLVE: clock},
        runs=(*case.runs, Run(at, clock.due_at)),
        reopened=case.reopened + 1,
        restarts=case.restarts + 1,
        resolved_at=None,
        closed_at=None,
    )


def _meet(case: LoopCase, at: datetime, name: ClockName, *, status: CaseStatus) -> LoopCase:
    return case.changed(at, status=status, clocks=_with(case, name, lambda c: meet(c, at)))


def _resolve(case: LoopCase, at: datetime, action: CaseAction) -> LoopCase:
    clocks = _with(case, ClockName.RESOLVE, lambda c: meet(c, at))
    if ClockName.CONTACT in clocks:
        clocks[ClockName.CONTACT] = meet(clocks[ClockName.CONTACT], at)
    runs = case.runs
    if runs:
        last = runs[-1]
        runs = (*runs[:-1], Run(last.started_at, last.due_at, at, action.result))
    return case.changed(
        at, status=_S.RESOLVED, clocks=clocks, runs=runs, resolved_at=at, result=action.result
    )


def _visit(cal: WorkingCalendar, case: LoopCase, at: datetime, action: CaseAction) -> Transition:
    satisfaction = action.satisfaction
    visited = case.changed(at, satisfaction=satisfaction)
    if satisfaction is not None and satisfaction.value in SATISFIED:
        return Transition(visited.changed(at, status=_S.CLOSED, closed_at=at))
    return Transition(
        _reopen(cal, visited, at),
        (
            Signal(SignalKind.SLA, at, level=SlaLevel.DISSATISFIED),
            Signal(SignalKind.SLA, at, level=SlaLevel.REOPENED),
        ),
    )


def _sync_run(case: LoopCase) -> LoopCase:
    """The last resolve run's deadline as the resolve clock has it now."""
    clock = case.clocks.get(ClockName.RESOLVE)
    if clock is None or not case.runs or case.runs[-1].resolved_at is not None:
        return case
    last = case.runs[-1]
    if last.due_at == clock.due_at:
        return case
    return replace(case, runs=(*case.runs[:-1], Run(last.started_at, clock.due_at)))


def _with(
    case: LoopCase, name: ClockName, change: Callable[[Clock], Clock]
) -> dict[ClockName, Clock]:
    """The case's clocks with clock ``name`` changed (a case without it: unchanged)."""
    clocks = dict(case.clocks)
    clock = clocks.get(name)
    if clock is not None:
        clocks[name] = change(clock)
    return clocks


def action_time(case: LoopCase, action: CaseAction, now: datetime) -> datetime:
    """When ``action`` counts as done: its ``at``, but never later than ``now`` (when it is
    applied) nor earlier than the last entry of the case's history (a history never runs
    back). Changes that are no entry (a new source, an echo, an escalation) do not hold it
    back: an accept sent at 10:00 and applied after a report the router took in at 10:20
    (it was down, say) was still done at 10:00, and counts as on time if 10:00 was."""
    last = case.history[-1].at if case.history else case.dispatched_at
    return max(min(action.at, now), last)


def _detail(action: CaseAction) -> str | None:
    if action.action is _A.VISIT and action.satisfaction is not None:
        return action.satisfaction.value
    if action.action is _A.RETURN:
        return action.actor
    if action.action is _A.RESOLVE and action.result is not None:
        return action.result.value
    return None
