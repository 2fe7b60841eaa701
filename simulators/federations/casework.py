"""One federation working one case: look at it, wait for the moment, act, look again.

:func:`work_case` runs while the actor has something to do with the case
(:func:`~simulators.federations.policy.next_step`): it sleeps until the step's
loop time (waking early when the federation's topic brings news of the case),
sends the action with its deterministic id, and takes the state the API
answers as the new situation. It retries what got no answer (same id: the API
applies it once), re-sends what was sent but not settled (202), and on a
refusal (409, or 403/404 when the case left) looks at the case again: if the
case moved on since the step was decided (a new report reopened it, it closed
on its own, it merged), the refusal was expected and the work goes on from the
new state; if not, the refusal is logged as unexpected and the case left alone.

A waiting worker also looks at its case again every 4 hours of loop time (at
least 5 s of wall time apart): some changes come with no dispatch event (a case
that joined a risk alert became an emergency, with shorter limits), and a case
with nothing to do for now (never to be accepted, left to close on its own) is
kept in view until it closes or leaves.

The API's case store follows ``cases.state`` a moment behind the dispatch
topics, so a worker told of an event first waits (:class:`Expect`) until the
case's state shows what the event did: its placement (a case assigned here, or
returned to triage) and its reports (a new report that may have reopened it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from pydantic import ValidationError

from caseloop.clocks import WorkingCalendar
from caseloop.loopclock import LoopClock
from schemas.caseloop import CaseState, CaseStatus
from simulators.federations.client import NO_ANSWER, CaseCalls
from simulators.federations.ledger import Ledger, LedgerEntry, Outcome
from simulators.federations.mix import MIX, Mix
from simulators.federations.policy import Step, next_step

log = structlog.get_logger(__name__)

FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0
PENDING_RETRY_S = 1.0
# How long the API may take to show what an event of the topic did (its store lags behind the
# topic by a moment; a case merged away stays unknown for good).
CATCH_UP_PATIENCE_S = 60.0
# How long a refused action waits for the API to show that the case moved on.
MOVED_ON_PATIENCE_S = 3.0
# A case waiting for its next step is looked at again every 4 hours of loop time (so a
# change no dispatch event announces, an emergency that shortened its clocks, is seen), but
# never more often than every 5 s of wall time.
RELOOK_LOOP_S = 4 * 3600.0
RELOOK_MIN_WALL_S = 5.0


def relook_interval(speed: float) -> float:
    """Wall seconds between fresh looks at a waiting case, at loop speed ``speed``."""
    return max(RELOOK_LOOP_S / speed, RELOOK_MIN_WALL_S)


@dataclass(frozen=True)
class Expect:
    """What an event showed of a case: the state the API serves must show it too."""

    district: str | None
    sources: frozenset[tuple[str, str]]

    def met_by(self, state: CaseState) -> bool:
        """Whether ``state`` has the event's placement and at least its reports."""
        held = {(str(s.channel), s.external_id) for s in state.sources}
        return state.district == self.district and self.sources <= held


@dataclass
class News:
    """Tells a case's worker that its topic brought an event, and what the latest one showed."""

    flag: asyncio.Event = field(default_factory=asyncio.Event)
    expect: Expect | None = None

    def tell(self, expect: Expect | None) -> None:
        """An event came (sources only grow, so the latest event's expectation covers all)."""
        self.expect = expect
        self.flag.set()

    def take(self) -> Expect | None:
        """What the worker must wait to see; the news is consumed."""
        self.flag.clear()
        expect, self.expect = self.expect, None
        return expect


@dataclass
class Desk:
    """What every case worker of one actor shares: who it is, how it calls, what it saw."""

    actor: str
    seed: int
    client: CaseCalls
    ledger: Ledger
    clock: LoopClock
    calendar: WorkingCalendar
    seats: asyncio.Semaphore  # calls in flight at once: the federation's staff
    relook_s: float = RELOOK_MIN_WALL_S  # wall seconds between fresh looks at a waiting case
    mix: Mix = MIX
    seen: dict[str, CaseState] = field(default_factory=dict)  # last state of each case
    doing: dict[str, str] = field(default_factory=dict)  # what each worker is at (for a look)


async def work_case(desk: Desk, case_id: str, news: News) -> None:
    """Act on ``case_id`` until there is nothing left for ``desk.actor`` to do with it."""
    try:
        await _work(desk, case_id, news)
    finally:
        desk.doing.pop(case_id, None)


async def _work(desk: Desk, case_id: str, news: News) -> None:
    desk.doing[case_id] = "looking"
    state = await fetch(desk, case_id, news.take())
    done: set[str] = set()
    while state is not None:
        step = next_step(desk.seed, desk.actor, state, desk.calendar, desk.mix)
        if step is None and not _open_here(desk.actor, state):
            log.debug("federation_case_done", actor=desk.actor, case_id=case_id)
            return
        if step is not None and step.action_id in done:
            # The API confirmed this very step, yet the state still asks for it: stop, loudly.
            log.error("federation_step_repeats", actor=desk.actor, action_id=step.action_id)
            return
        desk.doing[case_id] = (
            f"{state.status} until {step.action} at {step.at}"
            if step
            else (f"{state.status}, nothing to do")
        )
        # With no step (never accepted, left to close on its own) it only waits for news or
        # for the time of a fresh look: the case may change with no event (an emergency).
        if await _look_again_first(desk, step.at if step else None, news) or step is None:
            desk.doing[case_id] = "looking"
            state = await fetch(desk, case_id, news.take())
            continue
        desk.doing[case_id] = f"sending {step.action_id}"
        state = await act(desk, step, state)
        if state is not None and any(e.action_id == step.action_id for e in state.history):
            done.add(step.action_id)
    log.debug("federation_case_left", actor=desk.actor, case_id=case_id)


def _open_here(actor: str, state: CaseState) -> bool:
    """Whether the case is still the district's and open (the desk keeps no case it assigned)."""
    return state.district == actor and state.status is not CaseStatus.CLOSED


async def fetch(
    desk: Desk, case_id: str, expect: Expect | None = None, patience_s: float = CATCH_UP_PATIENCE_S
) -> CaseState | None:
    """The case's state as the API has it, once it meets ``expect`` (or ``patience_s`` passed);
    None if it is not the actor's (403) or unknown (404), at once without ``expect``, after
    ``patience_s`` with it. No answer, 401 and 5xx are retried for as long as it takes (the
    daemon may be restarting, a new token may not have reached it yet)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    delay = FIRST_RETRY_S
    while True:
        status, body = await _seated(desk, partial(desk.client.case, case_id))
        late = loop.time() >= deadline
        if status == 200:
            state = _keep(desk, body)
            if state is None or expect is None or expect.met_by(state) or late:
                if late and expect is not None and state is not None and not expect.met_by(state):
                    log.debug("federation_event_not_shown", actor=desk.actor, case_id=case_id)
                return state
        elif status == 400 or (status in (403, 404) and (late or expect is None)):
            log.debug("federation_case_not_shown", actor=desk.actor, case_id=case_id, status=status)
            desk.seen.pop(case_id, None)
            return None
        await asyncio.sleep(delay)  # the simulator waits for the daemon: nothing to await
        delay = min(delay * 2, MAX_RETRY_S)


async def act(desk: Desk, step: Step, known: CaseState) -> CaseState | None:
    """Send ``step`` until the API settles it; the case's state after it (None: leave the case)."""
    case_id = known.case_id
    delay = FIRST_RETRY_S
    while True:
        at = desk.clock.now()
        status, body = await _seated(desk, partial(desk.client.act, case_id, step.body(at)))
        if status == 200:
            state = _keep(desk, body)
            _record(desk, step, at, status, Outcome.APPLIED, case_status=_status(state))
            return state
        if status == 202:
            _record(desk, step, at, status, Outcome.PENDING)
            await asyncio.sleep(PENDING_RETRY_S)
            continue
        if status in (403, 404, 409):
            fresh = await _moved_on(desk, known)
            expected = fresh is None or fresh.version > known.version
            reason = _reason(body)
            _record(desk, step, at, status, Outcome.REFUSED, expected, reason, _status(fresh))
            if not expected:
                log.error(
                    "federation_action_refused",
                    actor=desk.actor,
                    action_id=step.action_id,
                    status=status,
                    reason=reason,
                )
                return None
            log.info("federation_case_moved_on", actor=desk.actor, action_id=step.action_id)
            return fresh
        if status == 400:
            _record(desk, step, at, status, Outcome.INVALID, reason=_reason(body))
            log.error("federation_action_invalid", action_id=step.action_id, reason=_reason(body))
            return None
        _record(desk, step, at, status, Outcome.RETRY, reason=_reason(body))
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_RETRY_S)


async def _moved_on(desk: Desk, known: CaseState) -> CaseState | None:
    """The case once the API shows a newer version than ``known`` (or, after a while, as it is)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MOVED_ON_PATIENCE_S
    while True:
        fresh = await fetch(desk, known.case_id)
        if fresh is None or fresh.version > known.version or loop.time() >= deadline:
            return fresh
        await asyncio.sleep(FIRST_RETRY_S)  # the API's store catching up with the router


async def _look_again_first(desk: Desk, at: datetime | None, news: News) -> bool:
    """Sleep until loop time ``at`` (None: no step waiting); True if the case should be looked
    at again first: news came, or ``desk.relook_s`` passed before ``at``."""
    if news.flag.is_set():
        return True
    timeout, due = desk.relook_s, False
    if at is not None:
        due_in = (desk.clock.wall(at) - datetime.now(UTC)).total_seconds()
        if due_in <= 0:
            return False
        if due_in <= timeout:
            timeout, due = due_in, True
    try:
        await asyncio.wait_for(news.flag.wait(), timeout=timeout)
    except TimeoutError:
        return not due
    return True


async def _seated(desk: Desk, call: Callable[[], Awaitable[tuple[int, Any]]]) -> tuple[int, Any]:
    """``call()`` once one of the actor's seats is free (its staff are busy otherwise); the
    call is made only then, so a worker stopped while it waits leaves no coroutine behind."""
    async with desk.seats:
        return await call()


def _keep(desk: Desk, body: Any) -> CaseState | None:
    try:
        state = CaseState.model_validate(body)
    except ValidationError as exc:
        log.error(  # noqa: TRY400  (the validation message says it all; no traceback)
            "federation_bad_case_state", actor=desk.actor, error=str(exc)[:300]
        )
        return None
    desk.seen[state.case_id] = state
    return state


def _record(
    desk: Desk,
    step: Step,
    at: datetime,
    status: int,
    outcome: Outcome,
    expected: bool = False,
    reason: str | None = None,
    case_status: str | None = None,
) -> None:
    desk.ledger.record(
        LedgerEntry(
            actor=desk.actor,
            case_id=step.case_id,
            action_id=step.action_id,
            action=step.action.value,
            at=at.isoformat(),
            status=status,
            outcome=outcome,
            expected=expected,
            reason=reason if status != NO_ANSWER else "no answer",
            case_status=case_status,
        )
    )


def _status(state: CaseState | None) -> str | None:
    return state.status.value if state is not None else None


def _reason(body: Any) -> str | None:
    if isinstance(body, dict):
        reason = body.get("reason") or body.get("message")
        return str(reason) if reason is not None else None
    return None
