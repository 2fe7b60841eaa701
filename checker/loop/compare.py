"""Judging a run's case loop: :func:`check_loop`.

Replays the observed inputs (:mod:`checker.loop.truth`) and compares the
result with what the router published: the last ``cases.state`` value of each
case field by field, ``alerts.sla`` (:mod:`checker.loop.sla`), every action's
fate (in its case's history, refused on ``router.dlq``, or lost), the
``case_returned`` / ``case_assigned`` events, and the figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from checker.events import parse_time
from checker.loop.case import CaseTruth
from checker.loop.figures import compare_figures, compute_figures, facts_of_state, facts_of_truth
from checker.loop.inputs import LoopInputs, LoopTime, read_inputs
from checker.loop.observed import (
    CLOCK_FIELDS,
    STATE_FIELDS,
    CaseFields,
    SeenLoop,
    history_ids,
    read_seen,
    state_fields,
)
from checker.loop.races import raced_cases
from checker.loop.report import LoopReport
from checker.loop.rules import CLOCKS
from checker.loop.sla import judge_alerts, same_time
from checker.loop.truth import APPLIED, LATER, REFUSED, LoopTruth, Verdict, replay
from checker.loop.workdays import WorkingDays
from checker.observed import Observed
from core.kafka.topics import TopicCatalog

ROUTER_PROMISE = timedelta(seconds=5)  # an SLA level is raised within 5 s (wall) while running


@dataclass(frozen=True)
class LoopOptions:
    """How to judge a run's loop.

    ``clock``: the run's loop clock (speed, anchor). ``at``: the evaluation
    time, loop time (default: the latest time the run shows, inputs and
    outputs). ``tolerance``: wall time within which the router raises a level,
    and within which an action may be in flight. ``downtime``: wall-time
    windows when the router was down. ``period``: the figures' ``[start, end)``,
    loop time (default: the first input to ``at``). ``figures``: the
    router-side figures to judge (``{scope: {figure: value}}``, see
    :func:`checker.loop.figures.compare_figures`); None computes them from
    ``cases.state`` with the checker's definitions.
    """

    clock: LoopTime = field(default_factory=LoopTime)
    at: datetime | None = None
    tolerance: timedelta = ROUTER_PROMISE
    downtime: tuple[tuple[datetime, datetime], ...] = ()
    period: tuple[datetime, datetime] | None = None
    figures: Mapping[str, Mapping[str, Any]] | None = None
    namespace: str = ""
    calendar: WorkingDays | None = None


def check_loop(observed: Observed, options: LoopOptions | None = None) -> LoopReport:
    """The loop figures of ``observed`` (a run read with its loop topics)."""
    options = options or LoopOptions()
    cal = options.calendar or WorkingDays()
    inputs = read_inputs(observed, options.clock, TopicCatalog(options.namespace))
    seen = read_seen(observed.case_states, observed.sla_alerts)
    at = options.at or _latest(inputs, seen)
    report = LoopReport(malformed_messages=len(seen.malformed))
    for where in seen.malformed[:5]:
        report.note(f"malformed loop message {where}")
    if at is None:
        return report  # nothing at all happened
    race = options.clock.span(options.tolerance)
    truth = replay(inputs, cal, at, race)
    earlier = replay(inputs, cal, at - race, race) if race else truth
    downtime = tuple(
        (options.clock.of_wall(a), options.clock.of_wall(b)) for a, b in options.downtime
    )
    raced = raced_cases(inputs, race, downtime) & set(truth.live_cases())
    report.cases_raced = len(raced)
    _judge_states(truth, earlier, seen, report, raced)
    _judge_actions(truth, inputs, seen, report, raced)
    _judge_moves(truth, inputs, report)
    judge_alerts(
        [a for a in truth.alerts if a.case_id not in raced],
        truth.tolerated,
        [a for a in seen.alerts if a.case_id not in raced],
        report,
        tolerance=race,
        downtime=downtime,
    )
    start, end = options.period or (inputs.first_at or at, at)
    # A raced case counts as the router has it: either order of its inputs is right.
    facts = [
        facts_of_state(seen.states[case_id])
        if case_id in raced and case_id in seen.states
        else facts_of_truth(case)
        for case_id, case in truth.live_cases().items()
    ]
    expected = compute_figures((f for f in facts if f is not None), start, end, at, cal)
    given = options.figures
    if given is None:
        observed_facts = [f for v in seen.states.values() if (f := facts_of_state(v)) is not None]
        given = compute_figures(observed_facts, start, end, at, cal)
    compare_figures(expected, given, report)
    return report


def _latest(inputs: LoopInputs, seen: SeenLoop) -> datetime | None:
    """The latest loop time the run shows: its last input, state change or SLA alert."""
    times = [t for t in (inputs.last_at,) if t is not None]
    times += [a.raised_at for a in seen.alerts]
    times += [t for v in seen.states.values() if (t := parse_time(v.get("updated_at")))]
    return max(times) if times else None


def truth_fields(case: CaseTruth) -> CaseFields:
    """The compared fields of an expected case, as :func:`state_fields` gives them."""
    out: CaseFields = {name: getattr(case, name) for name in STATE_FIELDS}
    for name in CLOCKS:
        clock = case.clocks.get(name)
        values = (clock.state, clock.unit, clock.due, clock.met) if clock else (None,) * 4
        out |= {f"clock.{name}.{part}": v for part, v in zip(CLOCK_FIELDS, values, strict=True)}
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) or isinstance(b, datetime):
        return same_time(a, b)
    return bool(a == b)


def _judge_states(
    truth: LoopTruth,
    earlier: LoopTruth,
    seen: SeenLoop,
    report: LoopReport,
    raced: set[str],
) -> None:
    """Missing, extra and wrong case states; a field is right if it matches the state at
    the evaluation time or ``race`` before it (a timer the router had not run yet). The
    states of raced cases (:mod:`checker.loop.races`) are not judged field by field."""
    live = truth.live_cases()
    report.cases_expected, report.case_states_seen = len(live), len(seen.states)
    for case_id in sorted(set(seen.states) - set(live)):
        report.case_states_extra += 1
        report.note(f"case state of {case_id}, which has no case (or was merged)")
    for case_id, case in sorted(live.items()):
        value = seen.states.get(case_id)
        if value is None:
            report.case_states_missing += 1
            report.note(f"case state missing: {case_id}")
            continue
        if case_id in raced:
            continue
        got, now = state_fields(value), truth_fields(case)
        before = earlier.live_cases().get(case_id)
        then = truth_fields(before) if before is not None else now
        wrong = [k for k in now if not _same(got[k], now[k]) and not _same(got[k], then[k])]
        if wrong:
            report.case_states_wrong += 1
            report.wrong_fields.update(wrong)
            detail = ", ".join(f"{k} {got[k]} (expected {now[k]})" for k in wrong[:4])
            report.note(f"case {case_id}: {detail}")


def _judge_actions(
    truth: LoopTruth, inputs: LoopInputs, seen: SeenLoop, report: LoopReport, raced: set[str]
) -> None:
    """Each action id (or, unreadable, each message) applied once, refused, or lost (on a
    raced case, applied or refused are both right: it may have come after the race)."""
    histories = {case_id: Counter(history_ids(v)) for case_id, v in seen.states.items()}
    refused_ids = {r.action_id for r in inputs.refusals if r.action_id}
    refused_sources = {r.source for r in inputs.refusals}
    by_id: dict[str, list[Verdict]] = {}
    for verdict in truth.verdicts:
        by_id.setdefault(verdict.sent.action_id or verdict.sent.source, []).append(verdict)
    report.actions_sent = len(by_id)
    for action_id, verdicts in sorted(by_id.items()):
        sent = verdicts[0].sent
        outcomes = {v.outcome for v in verdicts}
        if outcomes == {LATER}:
            continue
        case = truth.cases.get(sent.case_id or "")
        in_history = histories.get(sent.case_id or "", Counter())[action_id]
        refused = action_id in refused_ids or any(
            v.sent.source in refused_sources for v in verdicts
        )
        applied = APPLIED in outcomes
        report.actions_applied += applied
        report.actions_refused += not applied and REFUSED in outcomes
        if in_history > 1:
            report.actions_applied_twice += 1
            report.note(f"action {action_id} applied {in_history} times to {sent.case_id}")
        if applied and case is not None and case.ended_at is not None:
            continue  # its case was merged away with its history
        if sent.case_id in raced and (in_history or refused):
            continue
        if in_history and not applied:
            report.actions_applied_wrongly += 1
            why = next((v.reason for v in verdicts if v.reason), "")
            report.note(f"action {action_id} applied to {sent.case_id}; should be refused: {why}")
        elif applied and not in_history and refused:
            report.actions_refused_wrongly += 1
            report.note(f"action {action_id} refused; it fits case {sent.case_id}")
        elif not in_history and not refused:
            report.actions_lost += 1
            where = f"case {sent.case_id}" if sent.case_id else f"a message at {sent.source}"
            report.note(f"action {action_id} lost: not applied to {where}, not refused")


def _judge_moves(truth: LoopTruth, inputs: LoopInputs, report: LoopReport) -> None:
    """The ``case_returned`` / ``case_assigned`` events, one per return and assignment."""
    expected, published = Counter(truth.moves), Counter(inputs.moves)
    report.case_moves_expected = sum(expected.values())
    for move in sorted((expected - published) + (published - expected), key=str):
        report.note(
            f"case move {'missing' if expected[move] > published[move] else 'extra'}: {move}"
        )
    report.case_moves_wrong = sum(((expected - published) + (published - expected)).values())
