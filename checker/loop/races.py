"""Cases whose inputs raced: an action done before a report or a risk alert of its case that
the router may have taken in first.

The replay places each action at its ``at`` and each report or alert at the time the router
took it in; the router applies them in the order it takes them in. When an action was
still in flight (sent, not yet read: at most ``race`` of loop time, or the router was down)
as a report or an alert of the same case arrived, the router may have applied the action
after it, and the outcome differs (a reopening, an escalation's terms, whether a later
visit fits): both orders are right. Such cases are *raced*: their states, actions and
alerts are not judged against one order, and the figures count them as the router has
them (the figures' sums are still judged).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from checker.loop.inputs import Acted, Alerted, LoopInputs, Reported


def raced_cases(
    inputs: LoopInputs, race: timedelta, downtime: Sequence[tuple[datetime, datetime]] = ()
) -> set[str]:
    """The cases with an action done less than ``race`` before one of their reports or their
    first risk alert (or done before an outage, the other arriving just after it)."""
    acted: dict[str, list[datetime]] = defaultdict(list)
    arrived: dict[str, list[datetime]] = defaultdict(list)
    alerted: set[str] = set()
    for item in inputs.timeline:
        if isinstance(item, Acted) and item.action.case_id:
            acted[item.action.case_id].append(item.at)
        elif isinstance(item, Reported):
            arrived[item.case_id].append(item.at)
        elif isinstance(item, Alerted):
            for case_id in item.case_ids:
                if case_id not in alerted:  # later versions change nothing of the case
                    alerted.add(case_id)
                    arrived[case_id].append(item.at)
    return {
        case_id
        for case_id, times in acted.items()
        if any(_raced(a, r, race, downtime) for a in times for r in arrived.get(case_id, ()))
    }


def _raced(
    action_at: datetime,
    arrived_at: datetime,
    race: timedelta,
    downtime: Sequence[tuple[datetime, datetime]],
) -> bool:
    if not action_at < arrived_at:
        return False
    if arrived_at - action_at <= race:
        return True
    return any(
        start - race <= action_at <= end and arrived_at <= end + race for start, end in downtime
    )
