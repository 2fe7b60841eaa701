"""What the router published for the loop, read out of ``cases.state`` and ``alerts.sla``.

Plain records of the contract's fields (``unionhub.case/1``,
``unionhub.sla_alert/1``), so the comparison never depends on the router's
objects. ``cases.state`` is compacted: the last value of each key is the
case's state, a tombstone deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from checker.events import parse_time
from checker.loop.rules import CLOCKS
from checker.observed import Message

CaseFields = dict[str, Any]  # field name -> value (times as aware datetimes)
STATE_FIELDS = (
    "status",
    "district",
    "urgency",
    "reopened",
    "returned",
    "satisfaction",
    "result",
    "dispatched_at",
    "resolved_at",
    "closed_at",
)
CLOCK_FIELDS = ("state", "unit", "due_at", "met_at")
_TIME_FIELDS = frozenset({"dispatched_at", "resolved_at", "closed_at", "due_at", "met_at"})


@dataclass(frozen=True)
class SeenAlert:
    """One ``alerts.sla`` message."""

    alert_id: str
    case_id: str
    clock: str
    level: str
    restart: int
    due_at: datetime | None
    level_at: datetime
    raised_at: datetime
    district: str | None
    urgency: str
    category: str

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(case, clock, level, restart)."""
        return (self.case_id, self.clock, self.level, self.restart)


@dataclass
class SeenLoop:
    """The last state of every case, every SLA alert, and what did not parse."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[SeenAlert] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # where: topic@offset


def read_seen(case_states: list[Message], sla_alerts: list[Message]) -> SeenLoop:
    """Parse ``cases.state`` (last value per key) and ``alerts.sla``."""
    seen = SeenLoop()
    for message in sorted(case_states, key=lambda m: (m.partition, m.offset)):
        key = message.key or (message.value or {}).get("case_id")
        if message.tombstone and isinstance(key, str):
            seen.states.pop(key, None)
        elif message.value is None or not isinstance(key, str):
            seen.malformed.append(f"{message.topic}@{message.offset}")
        else:
            seen.states[key] = message.value
    for message in sla_alerts:
        alert = _alert(message.value)
        if alert is None:
            seen.malformed.append(f"{message.topic}@{message.offset}")
        else:
            seen.alerts.append(alert)
    return seen


def state_fields(value: dict[str, Any]) -> CaseFields:
    """The compared fields of an observed case state (a missing clock: all None)."""
    out: CaseFields = {name: _field(name, value.get(name)) for name in STATE_FIELDS}
    clocks = value.get("clocks")
    clocks = clocks if isinstance(clocks, dict) else {}
    for name in CLOCKS:
        clock = clocks.get(name)
        clock = clock if isinstance(clock, dict) else {}
        for part in CLOCK_FIELDS:
            out[f"clock.{name}.{part}"] = _field(part, clock.get(part))
    return out


def history_ids(value: dict[str, Any]) -> list[str]:
    """The ``action_id`` of every history entry of an observed case state."""
    history = value.get("history")
    if not isinstance(history, list):
        return []
    return [str(e.get("action_id")) for e in history if isinstance(e, dict)]


def _field(name: str, raw: Any) -> Any:
    return parse_time(raw) if name in _TIME_FIELDS else raw


def _alert(value: dict[str, Any] | None) -> SeenAlert | None:
    if value is None:
        return None
    level_at, raised_at = parse_time(value.get("level_at")), parse_time(value.get("raised_at"))
    alert_id, case_id, clock, level, urgency, restart = (
        value.get(k) for k in ("alert_id", "case_id", "clock", "level", "urgency", "reopening")
    )
    if not (
        isinstance(alert_id, str)
        and isinstance(case_id, str)
        and isinstance(clock, str)
        and isinstance(level, str)
        and isinstance(urgency, str)
        and isinstance(restart, int)
        and level_at is not None
        and raised_at is not None
    ):
        return None
    district = value.get("district")
    return SeenAlert(
        alert_id=alert_id,
        case_id=case_id,
        clock=clock,
        level=level,
        restart=restart,
        due_at=parse_time(value.get("due_at")),
        level_at=level_at,
        raised_at=raised_at,
        district=district if isinstance(district, str) else None,
        urgency=urgency,
        category=str(value.get("category")),
    )
