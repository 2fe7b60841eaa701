"""caseloop's transitions: every action in every state, clocks, urgency, reopenings, supervision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caseloop.calendar import CST, WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.limits import urgency_of
from caseloop.supervision import next_look, pending, reached
from caseloop.transitions import (
    RefusalKind,
    SignalKind,
    apply_action,
    auto_close,
    on_emergency,
    on_new_report,
    open_case,
    refusal,
)
from schemas.caseloop import (
    ActionKind,
    CaseAction,
    CaseStatus,
    ClockName,
    SlaLevel,
    Urgency,
)
from schemas.complaint import Category

CAL = WorkingDayCalendar()
# Monday 2026-03-02 10:00 CST: an ordinary working week.
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
_ids = iter(range(10**6))


def new_case(
    *, district: str | None = "nanshan", urgency: Urgency = Urgency.GENERAL, at: datetime = MONDAY
) -> LoopCase:
    return open_case(
        CAL,
        case_id="case-a",
        district=district,
        category=Category.OTHER,
        urgency=urgency,
        people_involved=1,
        street=None,
        sources=(("citizen_app", "MY1"),),
        at=at,
    )


def action(kind: ActionKind, at: datetime, actor: str = "nanshan", **fields: Any) -> CaseAction:
    defaults: dict[ActionKind, dict[str, object]] = {
        ActionKind.SUSPEND: {"reason": "劳动仲裁中"},
        ActionKind.RESOLVE: {"result": "resolved"},
        ActionKind.ASSIGN: {"to_district": "futian"},
        ActionKind.VISIT: {"satisfaction": "satisfied"},
    }
    return CaseAction(
        action_id=f"a-{next(_ids)}",
        case_id="case-a",
        actor=actor,
        action=kind,
        at=at,
        **{**defaults.get(kind, {}), **fields},
    )


def act(case: LoopCase, kind: ActionKind, at: datetime, **fields: Any) -> LoopCase:
    a = action(kind, at, **fields)
    assert refusal(case, a) is None, refusal(case, a)
    return apply_action(CAL, case, a, at).case


def in_state(status: CaseStatus) -> LoopCase:
    """A case of nanshan in ``status``, reached by the allowed actions."""
    case = new_case()
    t = MONDAY
    path = {
        CaseStatus.DISPATCHED: [],
        CaseStatus.ACCEPTED: [ActionKind.ACCEPT],
        CaseStatus.IN_PROGRESS: [ActionKind.ACCEPT, ActionKind.CONTACT],
        CaseStatus.SUSPENDED: [ActionKind.ACCEPT, ActionKind.SUSPEND],
        CaseStatus.RESOLVED: [ActionKind.ACCEPT, ActionKind.RESOLVE],
        CaseStatus.RETURNED: [ActionKind.RETURN],
        CaseStatus.CLOSED: [ActionKind.ACCEPT, ActionKind.RESOLVE, ActionKind.VISIT],
    }[status]
    for kind in path:
        t += timedelta(minutes=10)
        case = act(case, kind, t)
    assert case.status is status
    return case


ALLOWED = {
    CaseStatus.DISPATCHED: {"accept", "return", "note"},
    CaseStatus.ACCEPTED: {"contact", "suspend", "resolve", "return", "note"},
    CaseStatus.IN_PROGRESS: {"suspend", "resolve", "return", "note"},
    CaseStatus.SUSPENDED: {"resume", "note"},
    CaseStatus.RESOLVED: {"visit", "note"},
    CaseStatus.RETURNED: {"note"},  # assign: the city desk's (below)
    CaseStatus.CLOSED: {"note"},
}


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("kind", list(ActionKind))
def test_every_action_in_every_state_as_the_district(status: CaseStatus, kind: ActionKind) -> None:
    case = in_state(status)
    actor = "nanshan" if case.district == "nanshan" else "city"
    why = refusal(case, action(kind, MONDAY + timedelta(hours=2), actor=actor))
    allowed = kind.value in ALLOWED[status] or (
        kind is ActionKind.ASSIGN and status is CaseStatus.RETURNED
    )
    if allowed:
        assert why is None
    else:
        assert why is not None
        assert why.kind in (RefusalKind.STATE, RefusalKind.ACTOR)
        assert why.message.startswith(("action:", "actor:"))


def test_a_district_may_not_act_on_another_districts_case_but_the_city_desk_may() -> None:
    case = new_case()
    why = refusal(case, action(ActionKind.ACCEPT, MONDAY, actor="futian"))
    assert why is not None
    assert why.kind is RefusalKind.ACTOR
    assert "futian" in why.message
    assert refusal(case, action(ActionKind.ACCEPT, MONDAY, actor="city")) is None


def test_only_the_city_desk_assigns_and_only_returned_or_triage_cases() -> None:
    returned = in_state(CaseStatus.RETURNED)
    why = refusal(returned, action(ActionKind.ASSIGN, MONDAY, actor="nanshan"))
    assert why is not None
    assert why.kind is RefusalKind.ACTOR
    triage = new_case(district=None)
    assert refusal(triage, action(ActionKind.ASSIGN, MONDAY, actor="city")) is None
    why = refusal(triage, action(ActionKind.ACCEPT, MONDAY, actor="city"))
    assert why is not None
    assert why.message == "action: accept is not allowed in triage"
    assert refusal(new_case(), action(ActionKind.ASSIGN, MONDAY, actor="city")) is not None


def test_an_unknown_case_is_refused_by_name() -> None:
    why = refusal(None, action(ActionKind.ACCEPT, MONDAY))
    assert why is not None
    assert why.kind is RefusalKind.UNKNOWN_CASE
    assert why.message == "case_id: no case case-a"


def test_missing_fields_are_refused_by_the_contract() -> None:
    for kind, field in [
        (ActionKind.SUSPEND, "reason"),
        (ActionKind.RESOLVE, "result"),
        (ActionKind.ASSIGN, "to_district"),
        (ActionKind.VISIT, "satisfaction"),
    ]:
        missing: dict[str, Any] = {field: None}
        with pytest.raises(ValueError, match=f"{field}: required for {kind.value}"):
            action(kind, MONDAY, **missing)


@pytest.mark.parametrize(
    ("category", "people", "alert", "urgency"),
    [
        (Category.OTHER, 1, False, Urgency.GENERAL),
        (Category.DISMISSAL, 9, False, Urgency.GENERAL),
        (Category.WAGE_ARREARS, 1, False, Urgency.URGENT),
        (Category.WORK_INJURY, 1, False, Urgency.URGENT),
        (Category.OCCUPATIONAL_SAFETY, 1, False, Urgency.URGENT),
        (Category.OTHER, 10, False, Urgency.EMERGENCY),
        (Category.OTHER, 1, True, Urgency.EMERGENCY),
    ],
)
def test_urgency_rules(category: Category, people: int, alert: bool, urgency: Urgency) -> None:
    assert urgency_of(category, people, alert) is urgency


def due(case: LoopCase, clock: ClockName) -> datetime | None:
    return case.clocks[clock].due_at


def at_cst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def test_limits_of_each_urgency_from_a_monday_morning() -> None:
    general = new_case()
    assert due(general, ClockName.ACCEPT) == at_cst("2026-03-04T00:00")  # end of Tue
    assert due(general, ClockName.CONTACT) == at_cst("2026-03-06T00:00")  # end of Thu
    assert due(general, ClockName.RESOLVE) == at_cst("2026-03-24T00:00")  # 15 working days
    urgent = new_case(urgency=Urgency.URGENT)
    assert due(urgent, ClockName.RESOLVE) == at_cst("2026-03-12T00:00")  # 7 working days
    emergency = new_case(urgency=Urgency.EMERGENCY)
    assert due(emergency, ClockName.ACCEPT) == MONDAY + timedelta(hours=1)
    assert due(emergency, ClockName.CONTACT) == MONDAY + timedelta(hours=4)
    assert due(emergency, ClockName.RESOLVE) == at_cst("2026-03-06T00:00")


def test_clocks_across_the_spring_festival_and_an_adjusted_working_saturday() -> None:
    friday = at_cst("2026-02-13T15:00")  # the last working day before 春节; Sat 14 is worked
    case = new_case(at=friday)
    assert due(case, ClockName.ACCEPT) == at_cst("2026-02-15T00:00")  # end of the worked Saturday
    assert due(case, ClockName.CONTACT) == at_cst("2026-02-26T00:00")  # 14 Feb, 24, 25 Feb
    urgent = new_case(at=friday, urgency=Urgency.URGENT)
    # 14, 24, 25, 26, 27 Feb, the worked Saturday 28 Feb, 2 Mar.
    assert due(urgent, ClockName.RESOLVE) == at_cst("2026-03-03T00:00")


def test_suspend_and_resume_keep_the_time_left_of_the_resolve_clock() -> None:
    case = act(new_case(urgency=Urgency.URGENT), ActionKind.ACCEPT, MONDAY + timedelta(hours=1))
    before = due(case, ClockName.RESOLVE)
    assert before == at_cst("2026-03-12T00:00")
    suspended = act(case, ActionKind.SUSPEND, at_cst("2026-03-04T12:00"))
    assert suspended.clocks[ClockName.RESOLVE].state == "paused"
    assert due(suspended, ClockName.RESOLVE) is None
    assert suspended.runs[-1].due_at is None
    # Suspended over the weekend into Monday noon: 5 working days pass; the deadline moves
    # by the working time suspended (Wed 12:00 -> Mon 12:00 = 3 working days: Wed half,
    # Thu, Fri, Mon half).
    resumed = act(suspended, ActionKind.RESUME, at_cst("2026-03-09T12:00"))
    assert resumed.status is CaseStatus.ACCEPTED
    assert due(resumed, ClockName.RESOLVE) == at_cst("2026-03-17T00:00")
    assert resumed.runs[-1].due_at == at_cst("2026-03-17T00:00")


def test_resolve_meets_contact_too_and_a_satisfied_visit_closes() -> None:
    case = act(new_case(), ActionKind.ACCEPT, MONDAY + timedelta(minutes=5))
    resolved = act(case, ActionKind.RESOLVE, MONDAY + timedelta(hours=3))
    assert resolved.clocks[ClockName.CONTACT].met_at == MONDAY + timedelta(hours=3)
    assert resolved.clocks[ClockName.RESOLVE].met_on_time()
    assert resolved.runs[-1].resolved_at == MONDAY + timedelta(hours=3)
    closed = act(resolved, ActionKind.VISIT, MONDAY + timedelta(days=2), satisfaction="unreachable")
    assert closed.status is CaseStatus.CLOSED
    assert closed.closed_at == MONDAY + timedelta(days=2)


def test_a_resolve_keeps_its_reason_for_the_channel_and_survives_the_changelog() -> None:
    case = act(new_case(), ActionKind.ACCEPT, MONDAY + timedelta(minutes=5))
    resolved = act(case, ActionKind.RESOLVE, MONDAY + timedelta(hours=3), reason="已协调企业支付")
    entry = resolved.history[-1]
    assert (entry.detail, entry.reason) == ("resolved", "已协调企业支付")
    assert LoopCase.decode(resolved.encode()) == resolved
    assert resolved.view().history[-1].reason == "已协调企业支付"
    assert case.view().history[-1].reason is None  # only a resolve keeps one
    old_form = resolved.encode()
    old_form["h"] = [row[:5] for row in old_form["h"]]  # written before reasons were kept
    assert LoopCase.decode(old_form).history[-1].reason is None


def test_a_dissatisfied_visit_reopens_with_a_new_resolve_clock_and_two_signals() -> None:
    resolved = in_state(CaseStatus.RESOLVED)
    when = MONDAY + timedelta(days=1)
    transition = apply_action(
        CAL, resolved, action(ActionKind.VISIT, when, satisfaction="dissatisfied"), when
    )
    case = transition.case
    assert case.status is CaseStatus.IN_PROGRESS
    assert (case.reopened, case.restarts) == (1, 1)
    assert case.clocks[ClockName.RESOLVE].run_start == when
    assert len(case.runs) == 2
    assert [s.level for s in transition.signals] == [SlaLevel.DISSATISFIED, SlaLevel.REOPENED]


def test_a_new_report_within_30_days_of_resolve_reopens_and_later_does_not() -> None:
    closed = in_state(CaseStatus.CLOSED)
    assert closed.resolved_at is not None
    soon = on_new_report(CAL, closed, closed.resolved_at + timedelta(days=29))
    assert soon.case.status is CaseStatus.IN_PROGRESS
    assert soon.case.reopened == 1
    assert [s.level for s in soon.signals] == [SlaLevel.REOPENED]
    late = on_new_report(CAL, closed, closed.resolved_at + timedelta(days=31))
    assert late.case is closed
    open_ = on_new_report(CAL, in_state(CaseStatus.ACCEPTED), MONDAY + timedelta(days=1))
    assert open_.signals == ()


def test_fifteen_days_without_a_visit_close_a_resolved_case() -> None:
    resolved = in_state(CaseStatus.RESOLVED)
    assert resolved.resolved_at is not None
    deadline = resolved.resolved_at + timedelta(days=15)
    assert auto_close(resolved, deadline - timedelta(seconds=1)) is resolved
    closed = auto_close(resolved, deadline + timedelta(hours=3))
    assert closed.status is CaseStatus.CLOSED
    assert closed.closed_at == deadline
    assert next_look(CAL, resolved) == deadline


def test_return_stops_every_clock_and_assign_starts_them_anew_in_the_new_district() -> None:
    case = act(new_case(), ActionKind.ACCEPT, MONDAY + timedelta(minutes=30))
    when = MONDAY + timedelta(hours=2)
    returned = apply_action(CAL, case, action(ActionKind.RETURN, when, reason="不是本区"), when)
    assert returned.case.status is CaseStatus.RETURNED
    assert returned.case.district is None
    assert {c.state for c in returned.case.clocks.values()} <= {"stopped", "met"}
    assert [s.kind for s in returned.signals] == [SignalKind.RETURNED]
    assert pending(CAL, returned.case) == []
    later = when + timedelta(days=1)
    assigned = apply_action(
        CAL, returned.case, action(ActionKind.ASSIGN, later, actor="city"), later
    )
    case = assigned.case
    assert (case.district, case.status, case.restarts) == ("futian", CaseStatus.DISPATCHED, 1)
    assert case.dispatched_at == later
    assert {c.state for c in case.clocks.values()} == {"running"}
    assert case.clocks[ClockName.ACCEPT].run_start == later


def test_an_emergency_shortens_every_unmet_clock_and_never_lengthens_one() -> None:
    case = new_case()  # general: accept by the end of Tuesday
    when = MONDAY + timedelta(hours=2)
    urgent = on_emergency(CAL, case, when)
    assert urgent.urgency is Urgency.EMERGENCY
    assert due(urgent, ClockName.ACCEPT) == when + timedelta(hours=1)
    assert due(urgent, ClockName.CONTACT) == when + timedelta(hours=4)
    assert due(urgent, ClockName.RESOLVE) == at_cst("2026-03-06T00:00")  # 3 working days
    # An emergency limit later than the deadline it has: kept.
    late_start = new_case(at=MONDAY - timedelta(days=1, hours=20))  # Sat 14:00: due end of Mon
    assert due(late_start, ClockName.ACCEPT) == at_cst("2026-03-03T00:00")
    shortened = on_emergency(CAL, late_start, at_cst("2026-03-02T23:30"))
    assert due(shortened, ClockName.ACCEPT) == at_cst("2026-03-03T00:00")


def test_warning_overdue_and_escalated_at_80_100_and_200_percent_raised_once() -> None:
    case = new_case(urgency=Urgency.EMERGENCY)  # accept within 1 hour of 10:00
    levels = {(r.clock, r.level): r.at for r in pending(CAL, case)}
    assert levels[(ClockName.ACCEPT, SlaLevel.WARNING)] == MONDAY + timedelta(minutes=48)
    assert levels[(ClockName.ACCEPT, SlaLevel.OVERDUE)] == MONDAY + timedelta(hours=1)
    assert levels[(ClockName.ACCEPT, SlaLevel.ESCALATED)] == MONDAY + timedelta(hours=2)
    assert next_look(CAL, case) == MONDAY + timedelta(minutes=48)
    due_now = reached(CAL, case, MONDAY + timedelta(hours=1, minutes=1))
    assert [(r.clock, r.level) for r in due_now] == [
        (ClockName.ACCEPT, SlaLevel.WARNING),
        (ClockName.ACCEPT, SlaLevel.OVERDUE),
    ]
    from caseloop.supervision import mark_raised

    raised = mark_raised(case, [r.key for r in due_now])
    assert reached(CAL, raised, MONDAY + timedelta(hours=1, minutes=1)) == []
    accepted = act(raised, ActionKind.ACCEPT, MONDAY + timedelta(hours=1, minutes=5))
    assert all(r.clock is not ClockName.ACCEPT for r in pending(CAL, accepted))


def test_history_keeps_every_action_once_and_the_time_never_goes_back() -> None:
    case = act(new_case(), ActionKind.NOTE, MONDAY + timedelta(hours=1))
    earlier = act(case, ActionKind.ACCEPT, MONDAY - timedelta(hours=5))  # backdated
    assert earlier.history[-1].at == MONDAY + timedelta(hours=1)
    assert [e.action for e in earlier.history] == ["note", "accept"]
    assert earlier.applied(earlier.history[-1].action_id)


def test_an_action_applied_after_a_later_report_counts_at_its_own_time() -> None:
    # The router took in a new report at 10:20 (it had been down) before an accept done at
    # 10:00: the accept still met its clock at 10:00; updated_at stays at 10:20.
    case = new_case()
    reported = on_new_report(CAL, case.changed(MONDAY + timedelta(minutes=20)), MONDAY).case
    done = action(ActionKind.ACCEPT, MONDAY + timedelta(minutes=5))
    accepted = apply_action(CAL, reported, done, MONDAY + timedelta(hours=2)).case
    assert accepted.clocks[ClockName.ACCEPT].met_at == MONDAY + timedelta(minutes=5)
    assert accepted.history[-1].at == MONDAY + timedelta(minutes=5)
    assert accepted.updated_at == MONDAY + timedelta(minutes=20)


def test_the_changelog_form_round_trips() -> None:
    case = in_state(CaseStatus.SUSPENDED)
    assert LoopCase.decode(case.encode()) == case
    view = case.view()
    assert view.status is CaseStatus.SUSPENDED
    assert [h.action for h in view.history] == ["accept", "suspend"]


def _every_shape() -> list[LoopCase]:
    """Cases in every status, a triage case, a resolved one with a reason, a reopened one,
    and a case whose times came in UTC and in CST (the view writes each as it is)."""
    cases = [in_state(status) for status in CaseStatus]
    cases.append(new_case(district=None))
    cases.append(new_case(at=MONDAY.astimezone(UTC) + timedelta(microseconds=7)))
    resolved = act(in_state(CaseStatus.ACCEPTED), ActionKind.RESOLVE, MONDAY + timedelta(hours=1),
                   reason="已协调企业支付")  # fmt: skip
    cases.append(resolved)
    visited = act(resolved, ActionKind.VISIT, MONDAY + timedelta(hours=2),
                  satisfaction="dissatisfied")  # fmt: skip
    cases.append(visited)
    cases.append(on_new_report(CAL, visited, MONDAY + timedelta(hours=3)).case)
    return cases


@pytest.mark.parametrize("case", _every_shape(), ids=lambda c: f"{c.status}-{c.version}")
def test_the_state_json_is_the_views_json_byte_for_byte(case: LoopCase) -> None:
    assert case.state_json() == case.view().to_json()
