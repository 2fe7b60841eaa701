"""The checker's second, independent implementation of the case loop (caseloop.md).

``replay(read_inputs(observed, LoopTime(...), catalog), WorkingDays(), at)``
replays what the router was told (dispatch events, risk alerts, actions)
with the checker's own working-day calendar, clocks and transitions. It
imports nothing of ``caseloop`` or ``router``.
"""

from checker.loop.inputs import LoopInputs, LoopTime, read_inputs
from checker.loop.truth import LoopTruth, replay
from checker.loop.workdays import WorkingDays

__all__ = ["LoopInputs", "LoopTime", "LoopTruth", "WorkingDays", "read_inputs", "replay"]
