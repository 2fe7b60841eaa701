"""Judging ``alerts.sla``: every expected alert raised once, on time, saying the right thing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from checker.loop.case import ExpectedAlert
from checker.loop.observed import SeenAlert
from checker.loop.report import LoopReport

AlertKey = tuple[str, str, str, int]
# Times the router computes in floats may differ from exact ones by microseconds.
TIME_SLACK = timedelta(milliseconds=1)


def same_time(a: datetime | None, b: datetime | None) -> bool:
    """Equal within :data:`TIME_SLACK` (both None counts as equal)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TIME_SLACK


def judge_alerts(
    expected: Sequence[ExpectedAlert],
    tolerated: set[AlertKey],
    seen: Sequence[SeenAlert],
    report: LoopReport,
    *,
    tolerance: timedelta,
    downtime: Sequence[tuple[datetime, datetime]] = (),
) -> None:
    """Fill the ``sla_alerts_*`` figures of ``report``.

    ``tolerance`` (loop time) is how long after its ``level_at`` an alert may
    be raised; a level reached shortly before or during a ``downtime`` window
    (loop times) may be raised up to ``tolerance`` after the window ends.
    """
    wanted = {a.key: a for a in expected}
    by_key: dict[AlertKey, list[SeenAlert]] = defaultdict(list)
    keys_of_id: dict[str, set[AlertKey]] = defaultdict(set)
    for alert in seen:
        by_key[alert.key].append(alert)
        keys_of_id[alert.alert_id].add(alert.key)
    report.sla_alerts_expected = sum(not a.optional for a in expected)
    report.sla_alerts_optional = sum(a.optional for a in expected)
    report.sla_alerts_published = len(by_key)
    for key, copies in sorted(by_key.items()):
        if len(copies) > 1:
            report.sla_alerts_raised_twice += 1
            report.note(f"sla alert raised {len(copies)} times: {_label(key)}")
    for alert_id, keys in sorted(keys_of_id.items()):
        if len(keys) > 1:
            report.sla_alerts_raised_twice += 1
            report.note(f"sla alert id {alert_id} used for {len(keys)} alerts")
    for key, truth in sorted(wanted.items()):
        copies = by_key.get(key, [])
        if not copies:
            if not truth.optional:
                report.sla_alerts_missing += 1
                report.note(f"sla alert missing: {_label(key)} reached {truth.level_at}")
            continue
        first = min(copies, key=lambda a: a.raised_at)
        limit = _raise_limit(truth.level_at, tolerance, downtime)
        if first.raised_at > limit:
            report.sla_alerts_raised_late += 1
            report.note(
                f"sla alert late: {_label(key)} reached {truth.level_at}, raised {first.raised_at}"
            )
        wrong = _differences(truth, first)
        # A level first reached while an action that pushed it back was in flight (a
        # suspend, say) may carry that first reaching's times: the router raised it then.
        if wrong and key not in tolerated:
            report.sla_alerts_wrong += 1
            report.note(f"sla alert {_label(key)}: {', '.join(wrong)}")
    for key in sorted(by_key):
        if key not in wanted and key not in tolerated:
            report.sla_alerts_extra += 1
            report.note(f"sla alert not expected: {_label(key)}")


def _raise_limit(
    level_at: datetime, tolerance: timedelta, downtime: Sequence[tuple[datetime, datetime]]
) -> datetime:
    """The latest acceptable ``raised_at`` of a level reached at ``level_at``."""
    limit = level_at + tolerance
    for start, end in sorted(downtime):
        if start <= limit and level_at < end:
            limit = max(limit, end + tolerance)
    return limit


def _differences(truth: ExpectedAlert, seen: SeenAlert) -> list[str]:
    out = [
        f"{name} {getattr(seen, name)}, expected {getattr(truth, name)}"
        for name in ("district", "urgency", "category")
        if getattr(truth, name) != getattr(seen, name)
    ]
    if not same_time(truth.level_at, seen.level_at):
        out.append(f"level_at {seen.level_at}, expected {truth.level_at}")
    if not same_time(truth.due_at, seen.due_at):
        out.append(f"due_at {seen.due_at}, expected {truth.due_at}")
    return out


def _label(key: AlertKey) -> str:
    case_id, clock, level, restart = key
    return f"{case_id} {clock}/{level}/{restart}"
