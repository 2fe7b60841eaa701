"""The figures of caseloop/figures.py on hand-built case histories: each rate's numerator and
denominator, the period's edges, open overdue cases counting against 按时办结率."""

from __future__ import annotations

from datetime import datetime, timedelta

from caseloop.calendar import CST, WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.figures import CITY, Figures, compute
from caseloop.transitions import apply_action, open_case
from schemas.caseloop import CaseAction, CaseState, Urgency
from schemas.complaint import Category

CAL = WorkingDayCalendar()
WEEK = datetime(2026, 3, 2, tzinfo=CST)  # Monday 00:00 CST
END = WEEK + timedelta(days=7)


def opened(case_id: str, at: datetime, district: str = "nanshan", reports: int = 1) -> LoopCase:
    return open_case(
        CAL,
        case_id=case_id,
        district=district,
        category=Category.WAGE_ARREARS,
        urgency=Urgency.URGENT,
        people_involved=1,
        street=None,
        sources=tuple(("citizen_app", f"{case_id}-{i}") for i in range(reports)),
        at=at,
    )


def do(case: LoopCase, kind: str, at: datetime, **fields: str) -> LoopCase:
    action = CaseAction.model_validate(
        {"action_id": f"{case.case_id}-{kind}-{at.timestamp()}", "case_id": case.case_id,
         "actor": case.district, "action": kind, "at": at.isoformat(), **fields}
    )  # fmt: skip
    return apply_action(CAL, case, action, at).case


def figures(*cases: LoopCase, now: datetime = END) -> dict[str, Figures]:
    states: list[CaseState] = [c.view() for c in cases]
    return compute(states, WEEK, END, now, CAL)


def test_each_rate_counts_what_the_contract_says() -> None:
    mon = WEEK + timedelta(hours=10)
    on_time = do(do(opened("a", mon), "accept", mon + timedelta(hours=2)), "resolve",
                 mon + timedelta(days=2), result="resolved")  # fmt: skip
    visited = do(on_time, "visit", mon + timedelta(days=3), satisfaction="basically_satisfied")
    late_accept = do(opened("b", mon, reports=2), "accept", mon + timedelta(days=3))
    never = opened("c", mon)  # urgent: resolve within 7 working days (due next week)
    unreachable = do(
        do(do(opened("d", mon), "accept", mon), "resolve", mon + timedelta(hours=5),
           result="explained"),
        "visit", mon + timedelta(hours=6), satisfaction="unreachable",
    )  # fmt: skip
    f = figures(visited, late_accept, never, unreachable)["nanshan"]
    assert (f.dispatched, f.accepted, f.accepted_on_time) == (4, 3, 2)
    assert f.accept_rate.value == 3 / 4
    assert f.accept_on_time_rate.value == 2 / 3
    # Resolved early in the week (due next week): 应办结 by "resolved early".
    assert (f.resolve_rate.numerator, f.resolve_rate.denominator) == (2, 2)
    assert (f.resolve_on_time_rate.numerator, f.resolve_on_time_rate.denominator) == (2, 2)
    assert (f.satisfaction_rate.numerator, f.satisfaction_rate.denominator) == (1, 1)
    assert (f.repeat_rate.numerator, f.repeat_rate.denominator) == (1, 4)
    assert f.satisfaction_rate.value == 1.0  # unreachable left out
    city = figures(visited, late_accept, never, unreachable)[CITY]
    assert city.dispatched == 4


def test_an_open_overdue_run_counts_against_on_time_resolution_whenever_it_fell_due() -> None:
    before = WEEK - timedelta(days=20)  # fell due last week, still open
    overdue = do(opened("old", before), "accept", before + timedelta(hours=1))
    done = do(do(opened("new", WEEK + timedelta(hours=9)), "accept", WEEK + timedelta(hours=10)),
              "resolve", WEEK + timedelta(days=1), result="resolved")  # fmt: skip
    f = figures(overdue, done)["nanshan"]
    assert (f.resolve_on_time_rate.numerator, f.resolve_on_time_rate.denominator) == (1, 2)
    assert f.overdue_now == 1
    assert f.dispatched == 1  # only 'new' was dispatched this week


def test_a_returned_run_counts_in_no_rate_and_the_return_counts_for_its_district() -> None:
    mon = WEEK + timedelta(hours=10)
    case = do(opened("r", mon - timedelta(days=30)), "return", mon, reason="wrong district")
    f = figures(case, now=END + timedelta(days=30))
    assert f["nanshan"].returned == 1
    assert f[CITY].returned == 1
    assert f["nanshan"].open_overdue_runs == 0
    assert f["nanshan"].due_runs == 0


def test_nothing_counts_gives_no_ratio_rather_than_zero() -> None:
    f = figures()["futian"]
    assert f.accept_rate.value is None
    assert f.satisfaction_rate.value is None
