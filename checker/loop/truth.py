"""Replaying the loop's inputs: the case states, SLA alerts and answers a run must show.

:func:`replay` takes the time-ordered inputs (:mod:`checker.loop.inputs`) and
an evaluation time, and applies caseloop.md to them with the checker's own
model (:mod:`checker.loop.case`, :mod:`checker.loop.clock`,
:mod:`checker.loop.workdays`), sharing nothing with ``caseloop/``:

- before anything happens to a case at ``t``, every level its running clocks
  reached by ``t`` is raised (with its true time) and a resolved case 15 days
  past its resolve closes (at that instant);
- each action is judged against the case as it stands at its ``at``: applied,
  refused (with the reason), or a repeat of an ``action_id`` already applied;
- a level that a change cut short by less than ``race`` (an action in
  flight while the level came) is *tolerated*: raised or not, both are right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checker.loop.case import (
    ACCEPTED,
    CLOSED,
    DISPATCHED,
    IN_PROGRESS,
    RESOLVED,
    RETURNED,
    SUSPENDED,
    Applied,
    CaseTruth,
    ExpectedAlert,
)
from checker.loop.clock import Clock
from checker.loop.inputs import Acted, Alerted, Input, LoopInputs, Moved, Opened, Reported, Sent
from checker.loop.rules import (
    ACCEPT,
    AUTO_CLOSE_AFTER,
    CLOSING_ANSWERS,
    CONTACT,
    DISSATISFIED,
    LEVELS,
    REOPEN_WITHIN,
    REOPENED,
    RESOLVE,
    urgency_at_dispatch,
)
from checker.loop.workdays import ZERO, WorkingDays
from schemas.caseloop import CITY_DESK

APPLIED, REFUSED, REPEAT, LATER = "applied", "refused", "repeat", "later"

ALLOWED: dict[str, frozenset[str]] = {
    "accept": frozenset({DISPATCHED}),
    "contact": frozenset({ACCEPTED}),
    "suspend": frozenset({ACCEPTED, IN_PROGRESS}),
    "resume": frozenset({SUSPENDED}),
    "resolve": frozenset({ACCEPTED, IN_PROGRESS}),
    "return": frozenset({DISPATCHED, ACCEPTED, IN_PROGRESS}),
    "assign": frozenset({RETURNED, DISPATCHED}),  # dispatched: a triage case only
    "visit": frozenset({RESOLVED}),
}
IN_TRIAGE_ALLOWED = frozenset({"assign", "note"})


@dataclass(frozen=True)
class Verdict:
    """What the router must have done with one action message."""

    sent: Sent
    outcome: str  # applied | refused | repeat | later (after the evaluation time: not judged)
    reason: str | None = None


@dataclass
class LoopTruth:
    """The expected outcome of a run's loop as of :attr:`at`."""

    at: datetime
    cases: dict[str, CaseTruth] = field(default_factory=dict)
    alerts: list[ExpectedAlert] = field(default_factory=list)
    tolerated: set[tuple[str, str, str, int]] = field(default_factory=set)
    verdicts: list[Verdict] = field(default_factory=list)
    moves: list[Moved] = field(default_factory=list)

    def live_cases(self) -> dict[str, CaseTruth]:
        """The cases that still have a state (not merged into another)."""
        return {k: c for k, c in self.cases.items() if c.ended_at is None}


def replay(inputs: LoopInputs, cal: WorkingDays, at: datetime, race: timedelta = ZERO) -> LoopTruth:
    """The loop's expected outcome at ``at`` from ``inputs`` (loop times throughout)."""
    return _Replay(cal, at, race).run(inputs)


class _Replay:
    def __init__(self, cal: WorkingDays, at: datetime, race: timedelta) -> None:
        self.cal, self.race = cal, race
        self.truth = LoopTruth(at)

    def run(self, inputs: LoopInputs) -> LoopTruth:
        judged: set[str] = set()
        for item in inputs.timeline:
            if item.at > self.truth.at:
                break
            self._feed(item)
            if isinstance(item, Acted):
                judged.add(item.sent.source)
        for sent in inputs.sent:
            if sent.action is None:
                self.truth.verdicts.append(Verdict(sent, REFUSED, sent.problem))
            elif sent.source not in judged:
                self.truth.verdicts.append(Verdict(sent, LATER))
        for case in self.truth.live_cases().values():
            self._catch_up(case, self.truth.at)
        return self.truth

    def _feed(self, item: Input) -> None:
        if isinstance(item, Opened):
            self._open(item)
        elif isinstance(item, Reported):
            self._reported(item)
        elif isinstance(item, Alerted):
            for case_id in dict.fromkeys(item.case_ids):
                case = self._live(case_id)
                if case is not None:
                    self._catch_up(case, item.at)
                    case.become_emergency(self.cal, item.at)
        else:
            self.truth.verdicts.append(self._act(item))

    def _live(self, case_id: str) -> CaseTruth | None:
        case = self.truth.cases.get(case_id)
        return case if case is not None and case.ended_at is None else None

    # --- time passing ------------------------------------------------------------------

    def _catch_up(self, case: CaseTruth, t: datetime) -> None:
        """Raise the levels reached by ``t``, close the case if its 15 days are over."""
        reached: list[tuple[datetime, str, str]] = []
        for name, clock in case.clocks.items():
            for level, when in _levels(self.cal, case, name, clock):
                if when <= t:
                    reached.append((when, name, level))
                elif when <= t + self.race:
                    self.truth.tolerated.add((case.case_id, name, level, case.restart))
        for when, name, level in sorted(reached):
            self._raise(case, name, level, when)
        if case.status == RESOLVED and case.resolved_at is not None:
            closes = case.resolved_at + AUTO_CLOSE_AFTER
            if closes <= t:
                case.status, case.closed_at = CLOSED, closes
                case.loop_events.append((closes, "auto_close"))

    def _raise(self, case: CaseTruth, clock: str, level: str, when: datetime) -> None:
        optional = when > self.truth.at - self.race
        self.truth.alerts.append(case.alert(clock, level, when, optional=optional))

    # --- the inputs ----------------------------------------------------------------------

    def _open(self, item: Opened) -> None:
        if item.case_id in self.truth.cases:
            return
        case = CaseTruth(
            item.case_id,
            item.category,
            item.district,
            urgency_at_dispatch(item.category, item.people_involved),
            item.at,
            item.sources,
        )
        if item.district is not None:
            case.start_clocks(self.cal, item.at)
        self.truth.cases[item.case_id] = case

    def _reported(self, item: Reported) -> None:
        for merged_id in item.merged:
            merged = self._live(merged_id)
            if merged is not None and merged_id != item.case_id:
                self._catch_up(merged, item.at)
                merged.ended_at = item.at
        case = self._live(item.case_id)
        if case is None:
            return
        self._catch_up(case, item.at)
        if item.sources:
            case.sources = item.sources
        resolved = case.resolved_at
        recent = resolved is not None and item.at - resolved <= REOPEN_WITHIN
        if case.status in (RESOLVED, CLOSED) and recent:
            case.reopen(self.cal, item.at)
            case.loop_events.append((item.at, "reopen"))
            self._raise(case, RESOLVE, REOPENED, item.at)

    def _act(self, item: Acted) -> Verdict:
        action, t = item.action, item.at
        case = self._live(action.case_id)
        if case is None:
            return Verdict(item.sent, REFUSED, "unknown case")
        if action.action_id in case.applied_ids:
            return Verdict(item.sent, REPEAT)
        self._catch_up(case, t)
        why = _refusal(case, action.actor, action.action.value)
        if why is not None:
            return Verdict(item.sent, REFUSED, why)
        self._apply(case, item)
        return Verdict(item.sent, APPLIED)

    def _apply(self, case: CaseTruth, item: Acted) -> None:
        action, t, kind = item.action, item.at, item.action.action.value
        case.history.append(Applied(action.action_id, kind, action.actor, t, _detail(item)))
        if kind == "accept":
            case.clocks[ACCEPT].meet(t)
            case.status = ACCEPTED
        elif kind == "contact":
            case.clocks[CONTACT].meet(t)
            case.status = IN_PROGRESS
        elif kind == "suspend":
            case.suspend(self.cal, t)
        elif kind == "resume":
            case.resume(self.cal, t)
        elif kind == "resolve":
            case.resolve(t, action.result.value if action.result else None)
        elif kind == "return":
            case.give_back(self.cal, t, action.actor)
            self.truth.moves.append(Moved(case.case_id, "case_returned", None))
        elif kind == "assign" and action.to_district is not None:
            case.assign(self.cal, t, action.to_district)
            self.truth.moves.append(Moved(case.case_id, "case_assigned", action.to_district))
        elif kind == "visit" and action.satisfaction is not None:
            answer = action.satisfaction.value
            case.satisfaction = answer
            case.visits.append((t, answer))
            if answer in CLOSING_ANSWERS:
                case.status, case.closed_at = CLOSED, t
            else:
                case.reopen(self.cal, t)
                self._raise(case, RESOLVE, DISSATISFIED, t)
                self._raise(case, RESOLVE, REOPENED, t)


def _detail(item: Acted) -> str | None:
    """What the contract's history keeps of an action besides its kind."""
    action = item.action
    if action.satisfaction is not None:
        return action.satisfaction.value
    if action.result is not None:
        return action.result.value
    return item.sent.topic_actor if action.action.value == "return" else None


def _levels(
    cal: WorkingDays, case: CaseTruth, name: str, clock: Clock
) -> list[tuple[str, datetime]]:
    """(level, when) of every level of a running clock not raised yet."""
    out = []
    for level, fraction in LEVELS:
        if (name, level, case.restart) in case.raised:
            continue
        when = clock.level_time(cal, fraction)
        if when is not None:
            out.append((level, when))
    return out


def _refusal(case: CaseTruth, actor: str, kind: str) -> str | None:
    """Why ``actor``'s ``kind`` does not fit ``case`` now; None when it fits."""
    if actor != CITY_DESK and actor != case.district:
        return "actor: not the case's district"
    if kind == "assign" and actor != CITY_DESK:
        return "actor: only the city desk assigns"
    if case.district is None and kind not in IN_TRIAGE_ALLOWED:
        return f"{kind} on a case in triage"
    if kind == "note":
        return None
    if case.status not in ALLOWED[kind]:
        return f"{kind} on a {case.status} case"
    if kind == "assign" and case.status == DISPATCHED and case.district is not None:
        return "assign on a case already in a district"
    return None
