"""One federation working one case against an API in a box (caseloop's own rules, the REST
API's answers): retries keep the action id, refusals are judged expected only when the case
moved on, and a worker told of an event waits until the API shows it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from caseloop.calendar import WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.loopclock import LoopClock
from caseloop.transitions import apply_action, on_new_report, open_case, refusal
from schemas.caseloop import ActionKind, CaseStatus, Urgency
from schemas.complaint import Category
from simulators.federations.casework import Desk, Expect, News, work_case
from simulators.federations.ledger import Ledger, Outcome
from simulators.federations.plan import Fate, draw
from unionhub.cases.actions import build_action

CAL = WorkingDayCalendar()
SEED = 9
SPEED = 1_000_000.0  # a working day in under 0.1 s of wall time


@dataclass
class BoxedApi:
    """The case API of one case, for one district, in memory."""

    state: LoopCase
    clock: LoopClock
    actor: str = "nanshan"
    # Called before an action is judged: may change the case, or answer in its place.
    before_act: Callable[[BoxedApi, dict[str, Any]], tuple[int, Any] | None] | None = None
    hidden: int = 0  # GETs still answered as if the case were in triage (the store lagging)
    posts: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return self.state.view().model_dump(mode="json", by_alias=True)

    async def case(self, case_id: str) -> tuple[int, Any]:
        if self.hidden:
            self.hidden -= 1
            return 403, {"reason": "not yours (yet)"}
        if self.state.district != self.actor:
            return 403, {"reason": "not yours"}
        return 200, self.view()

    async def cases(self, status: str, page: int, per_page: int = 200) -> tuple[int, Any]:
        return 200, {"cases": [], "total": 0}

    async def act(self, case_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.posts.append(body["action_id"])
        if self.before_act is not None and (answer := self.before_act(self, body)) is not None:
            return answer
        now = self.clock.now()
        action = build_action(self.actor, case_id, body, now)
        if self.state.applied(action.action_id):
            return 200, self.view()
        why = refusal(self.state, action)
        if why is not None:
            return 409, {"field": "action", "reason": why.message}
        self.state = apply_action(CAL, self.state, action, now).case
        return 200, self.view()


def a_case(clock: LoopClock, *, suspended: bool = False) -> LoopCase:
    """A case whose plan is an ordinary one: accepted, no return, (no) suspension, visited."""
    for i in range(10_000):
        plan = draw(SEED, "nanshan", f"case-{i}", 1)
        if (
            plan.fate is Fate.WORK
            and plan.accept_frac < 1
            and (plan.suspension is not None) == suspended
            and plan.visit_after_days is not None
            and plan.satisfaction.value in ("satisfied", "basically_satisfied")
        ):
            return open_case(
                CAL,
                case_id=f"case-{i}",
                district="nanshan",
                category=Category.WAGE_ARREARS,
                urgency=Urgency.EMERGENCY,
                people_involved=12,
                street=None,
                sources=(("citizen_app", f"MY{i}"),),
                at=clock.now(),
            )
    raise AssertionError("no such plan")


def desk_for(api: BoxedApi, ledger: Ledger) -> Desk:
    return Desk(
        actor="nanshan",
        seed=SEED,
        client=api,
        ledger=ledger,
        clock=api.clock,
        calendar=CAL,
        seats=asyncio.Semaphore(4),
    )


def boxed(*, suspended: bool = False, **options: Any) -> BoxedApi:
    loop = LoopClock(SPEED, datetime.now(UTC))
    return BoxedApi(a_case(loop, suspended=suspended), loop, **options)


async def work(api: BoxedApi, expect: Expect | None = None) -> Ledger:
    ledger = Ledger()
    await asyncio.wait_for(
        work_case(desk_for(api, ledger), api.state.case_id, News(expect=expect)), 30
    )
    return ledger


async def test_a_case_is_worked_to_its_close_each_action_applied_once() -> None:
    api = boxed(suspended=True)
    ledger = await work(api)
    assert api.state.status is CaseStatus.CLOSED
    kinds = [e.action for e in api.state.history]
    assert kinds == ["accept", "contact", "suspend", "resume", "resolve", "visit"]
    assert [e.outcome for e in ledger.entries()] == [Outcome.APPLIED] * 6
    assert ledger.applied_ids() == {e.action_id for e in api.state.history}


async def test_no_answer_and_server_errors_are_retried_with_the_same_id() -> None:
    failures = iter([(0, None), (500, {"reason": "boom"}), (202, {"status": "sent"})])

    def flaky(api: BoxedApi, body: dict[str, Any]) -> tuple[int, Any] | None:
        return next(failures, None) if body["action"] == "accept" else None

    api = boxed(before_act=flaky)
    ledger = await work(api)
    accept = [e for e in ledger.entries() if e.action == "accept"]
    assert [(e.status, e.outcome) for e in accept] == [
        (0, Outcome.RETRY),
        (500, Outcome.RETRY),
        (202, Outcome.PENDING),
        (200, Outcome.APPLIED),
    ]
    assert len({e.action_id for e in accept}) == 1
    assert [e.action for e in api.state.history].count("accept") == 1


async def test_a_refusal_after_the_case_moved_on_is_expected_and_the_work_goes_on() -> None:
    def reopened_before_the_visit(api: BoxedApi, body: dict[str, Any]) -> tuple[int, Any] | None:
        if body["action"] == "visit" and api.state.reopened == 0:
            api.state = on_new_report(CAL, api.state, api.clock.now()).case  # a new report came
        return None

    api = boxed(before_act=reopened_before_the_visit)
    ledger = await work(api)
    (refused,) = ledger.refusals()
    assert (refused.action, refused.status, refused.expected) == ("visit", 409, True)
    assert refused.case_status == "in_progress"
    assert api.state.status is CaseStatus.CLOSED
    resolves = [e.action_id for e in api.state.history if e.action == "resolve"]
    assert [r.rsplit("-", 2)[1] for r in resolves] == ["1", "2"]  # a second run was resolved


async def test_a_refusal_of_a_case_that_did_not_move_is_unexpected_and_the_case_left() -> None:
    def stubborn(api: BoxedApi, body: dict[str, Any]) -> tuple[int, Any] | None:
        return (409, {"reason": "no"}) if body["action"] == "contact" else None

    api = boxed(before_act=stubborn)
    ledger = await work(api)
    (refused,) = ledger.refusals()
    assert (refused.action, refused.expected) == ("contact", False)
    assert api.state.status is CaseStatus.ACCEPTED  # left alone, loudly


async def test_a_worker_told_of_an_assignment_waits_until_the_api_shows_it() -> None:
    api = boxed(hidden=4)  # four looks still see the case in triage
    sources = frozenset(api.state.sources)
    ledger = await work(api, Expect("nanshan", sources))
    assert api.state.status is CaseStatus.CLOSED
    assert ledger.refusals() == []
    # Without the event's word for it, a 403 means the case is not the district's: left at once.
    unseen = boxed(hidden=1)
    assert (await work(unseen)).entries() == []
    assert unseen.state.history == ()


async def test_a_closed_case_needs_no_worker() -> None:
    api = boxed()
    await work(api)
    assert api.state.status is CaseStatus.CLOSED
    before = len(api.posts)
    await work(api)  # told of it again (an update): it looks, and there is nothing to do
    assert len(api.posts) == before
    assert ActionKind.VISIT.value in {e.action for e in api.state.history}
