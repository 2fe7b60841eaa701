"""The federations' policy against the loop's own rules, with no I/O: every step it takes fits
the case, the loop turns to its end, the mix shows in the outcome, and times follow the calendar."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from caseloop.calendar import CST, WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.limits import AUTO_CLOSE_AFTER
from caseloop.transitions import apply_action, auto_close, on_new_report, open_case, refusal
from schemas.caseloop import CITY_DESK, ActionKind, CaseStatus, ClockName, Satisfaction, Urgency
from schemas.complaint import Category
from simulators.federations.plan import draw
from simulators.federations.policy import Step, next_step
from unionhub.cases.actions import build_action

CAL = WorkingDayCalendar()
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
SEED = 5
URGENCIES = (Urgency.GENERAL, Urgency.URGENT, Urgency.EMERGENCY)


def dispatched(i: int, district: str | None = "nanshan", at: datetime = MONDAY) -> LoopCase:
    return open_case(
        CAL,
        case_id=f"case-{i:05d}",
        district=district,
        category=Category.OTHER,
        urgency=URGENCIES[i % 3],
        people_involved=1,
        street=None,
        sources=(("citizen_app", f"MY{i}"),),
        at=at,
    )


def drive(case: LoopCase, seed: int = SEED) -> tuple[LoopCase, list[Step]]:
    """Let the federations act on ``case`` as the router would apply it, to the loop's end."""
    steps: list[Step] = []
    for _ in range(40):
        view = case.view()
        actor = view.district or CITY_DESK
        step = next_step(seed, actor, view, CAL)
        if step is None:
            if case.status is CaseStatus.RESOLVED and case.resolved_at is not None:
                case = auto_close(case, case.resolved_at + AUTO_CLOSE_AFTER)
            return case, steps
        now = max(step.at, case.updated_at or case.dispatched_at)
        action = build_action(actor, case.case_id, step.body(now), now)  # the API's own parser
        assert refusal(case, action) is None, (step, case.status)
        case = apply_action(CAL, case, action, now).case
        steps.append(step)
    raise AssertionError(f"{case.case_id} never came to an end")


@pytest.fixture(scope="module")
def driven() -> list[tuple[LoopCase, list[Step]]]:
    return [drive(dispatched(i)) for i in range(3_000)]


def test_every_case_comes_to_an_end_with_each_action_id_once(
    driven: list[tuple[LoopCase, list[Step]]],
) -> None:
    ends = Counter(case.status for case, _ in driven)
    assert set(ends) == {CaseStatus.CLOSED, CaseStatus.DISPATCHED}
    assert ends[CaseStatus.DISPATCHED] / len(driven) == pytest.approx(0.03, abs=0.01)
    for case, steps in driven:
        ids = [s.action_id for s in steps]
        assert len(ids) == len(set(ids))
        assert [e.action_id for e in case.history if e.action_id.startswith("sim-")] == ids


def test_the_outcome_shows_the_mix(driven: list[tuple[LoopCase, list[Step]]]) -> None:
    n = len(driven)
    returned = [c for c, _ in driven if c.returned]
    assert len(returned) / n == pytest.approx(0.05, abs=0.012)
    for case in returned:  # the desk followed the returner's suggestion
        back = next(e for e in case.history if e.action == "return")
        assert case.district == draw(SEED, back.actor, case.case_id, 1).suggest
    reopened = sum(c.reopened for c, _ in driven)
    assert 0.03 < reopened / n < 0.12
    suspended = sum(any(s.action is ActionKind.SUSPEND for s in steps) for _, steps in driven)
    assert suspended / n == pytest.approx(0.15 * 0.97, abs=0.025)
    answers = Counter(c.satisfaction for c, _ in driven if c.status is CaseStatus.CLOSED)
    visited = sum(answers.values()) - answers[None]
    assert answers[None] / sum(answers.values()) == pytest.approx(0.10, abs=0.02)
    assert answers[Satisfaction.SATISFIED] / visited == pytest.approx(0.70 / 0.92, abs=0.03)


def test_accepts_are_on_time_as_the_mix_says(driven: list[tuple[LoopCase, list[Step]]]) -> None:
    met = [
        c.clocks[ClockName.ACCEPT].met_on_time()
        for c, _ in driven
        if c.urgency is not Urgency.EMERGENCY and not c.returned and c.history
    ]
    accepted = [m for m in met if m is not None]
    assert sum(accepted) / len(accepted) == pytest.approx(0.90, abs=0.02)


def test_working_day_steps_fall_on_working_days() -> None:
    # The afternoon before the National Day holidays (1-7 October): the loop waits them out.
    eve = datetime(2026, 9, 30, 16, 0, tzinfo=CST)
    for i in range(0, 600, 3):  # general cases: every limit in working days
        _, steps = drive(dispatched(i, at=eve))
        for step in steps:
            assert CAL.is_working_day(step.at), (step.action, step.at)
        assert all(step.at >= eve for step in steps)


def test_a_resolve_after_a_suspension_uses_the_planned_share_of_the_clock() -> None:
    for i in range(3_000):
        plan = draw(SEED, "nanshan", f"case-{i:05d}", 1)
        if plan.suspension is not None and plan.fate.value == "work" and i % 3 == 1:
            break
    case, steps = drive(dispatched(i))
    kinds = [s.action for s in steps]
    assert (
        kinds[:6]
        == [
            ActionKind.ACCEPT,
            ActionKind.CONTACT,
            ActionKind.SUSPEND,
            ActionKind.RESUME,
            ActionKind.RESOLVE,
            ActionKind.VISIT,
        ][: len(kinds[:6])]
    )
    at = {e.action: e.at for e in case.history}
    run = case.runs[0]
    budget = CAL.working_seconds(run.started_at, dispatched(i).runs[0].due_at or MONDAY)
    used = CAL.working_seconds(run.started_at, at["resolve"]) - CAL.working_seconds(
        at["suspend"], at["resume"]
    )
    assert used / budget == pytest.approx(plan.resolve_frac, abs=0.01)


def test_news_that_changes_nothing_changes_no_step_and_a_reopening_is_new_work() -> None:
    case = dispatched(1)
    view = case.view()
    assert next_step(SEED, "nanshan", view, CAL) == next_step(SEED, "nanshan", view, CAL)
    assert next_step(SEED, "futian", view, CAL) is None
    assert next_step(SEED, CITY_DESK, view, CAL) is None
    for i in range(100):
        closed, steps = drive(dispatched(i))
        if closed.status is CaseStatus.CLOSED and not closed.reopened and closed.resolved_at:
            break
    later = (closed.resolved_at or MONDAY) + timedelta(days=2)
    reopened = on_new_report(CAL, closed, later).case
    step = next_step(SEED, "nanshan", reopened.view(), CAL)
    assert step is not None
    assert step.action in (ActionKind.RESOLVE, ActionKind.SUSPEND)
    assert step.action_id.endswith("-2-" + step.action.value)
    assert step.action_id not in {s.action_id for s in steps}


def test_the_desk_assigns_a_triage_case_after_a_while() -> None:
    case = dispatched(4, district=None)
    step = next_step(SEED, CITY_DESK, case.view(), CAL)
    assert step is not None
    assert step.action is ActionKind.ASSIGN
    assert step.to_district == draw(SEED, CITY_DESK, case.case_id, 0).assign_to
    assert MONDAY < step.at < MONDAY + timedelta(days=1)
    assert next_step(SEED, "nanshan", case.view(), CAL) is None
