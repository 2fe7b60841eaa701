"""The checker's second, independent implementation of the case loop (caseloop.md).

``check_loop(observed, LoopOptions(...))`` replays what the router was told
(dispatch events, risk alerts, actions) with the checker's own working-day
calendar, clocks and transitions, and judges what it published
(``cases.state``, ``alerts.sla``, refusals on ``router.dlq``, case moves, the
figures). It imports nothing of ``caseloop`` or ``router``.
"""

from checker.loop.compare import LoopOptions, check_loop
from checker.loop.figures import CaseFacts, compute_figures, facts_of_state, facts_of_truth
from checker.loop.inputs import LoopInputs, LoopTime, read_inputs
from checker.loop.reader import loop_topics_exist, read_loop_observed
from checker.loop.report import LoopReport
from checker.loop.truth import LoopTruth, replay
from checker.loop.workdays import WorkingDays

__all__ = [
    "CaseFacts",
    "LoopInputs",
    "LoopOptions",
    "LoopReport",
    "LoopTime",
    "LoopTruth",
    "WorkingDays",
    "check_loop",
    "compute_figures",
    "facts_of_state",
    "facts_of_truth",
    "loop_topics_exist",
    "read_inputs",
    "read_loop_observed",
    "replay",
]
