"""What the router was told, as the checker reads it: one time-ordered list of inputs.

From the observed topics: the dispatch events (a ``new_case`` opens a case, a
``duplicate_report`` or ``case_merged`` is a new report), every version of every
risk alert (its cases become emergencies), every message of the action topics;
and, to compare with, the router's refusals (``router.dlq`` dead letters whose
``error.kind`` starts with ``action_``) and the ``case_returned`` /
``case_assigned`` events it published. Every time is loop time
(:class:`LoopTime`): action ``at`` s are loop times already, the dispatch
events' ``dispatched_at`` and the alerts' ``updated_at`` are wall times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from checker.events import MOVE_EVENTS, is_action_refusal, parse_time
from checker.observed import Message, Observed
from core.kafka.topics import TopicCatalog
from schemas.caseloop import CaseAction

REPORT_EVENTS = frozenset({"duplicate_report", "case_merged"})
Source = tuple[str, str]  # (channel, external_id) of a report


@dataclass(frozen=True)
class LoopTime:
    """Wall time to loop time: ``anchor + (wall - anchor) * speed`` (identity at speed 1)."""

    speed: float = 1.0
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        if self.speed <= 0 or (self.speed != 1 and self.anchor is None):
            raise ValueError("a loop speed must be positive, and needs an anchor unless 1")

    def of_wall(self, wall: datetime) -> datetime:
        """The loop time of wall time ``wall``."""
        if self.speed == 1 or self.anchor is None:
            return wall
        return self.anchor + (wall - self.anchor) * self.speed

    def span(self, wall: timedelta) -> timedelta:
        """A wall-clock duration in loop time."""
        return wall * self.speed


@dataclass(frozen=True)
class Opened:
    """A ``new_case``: the case's loop starts (clocks unless in triage)."""

    at: datetime
    case_id: str
    district: str | None
    category: str
    people_involved: int
    sources: frozenset[Source]


@dataclass(frozen=True)
class Reported:
    """A new report of a case (``duplicate_report``, ``case_merged``); merged cases end."""

    at: datetime
    case_id: str
    sources: frozenset[Source]
    merged: tuple[str, ...]


@dataclass(frozen=True)
class Alerted:
    """A version of a risk alert: its cases are members of an open alert from ``at``."""

    at: datetime
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class Sent:
    """One message of an action topic; ``action`` is None when it breaks the contract."""

    source: str  # topic-partition-offset
    topic_actor: str
    action: CaseAction | None
    action_id: str | None  # as far as it could be read
    case_id: str | None
    problem: str | None = None


@dataclass(frozen=True)
class Acted:
    """A valid action, placed in time at its ``at``."""

    at: datetime
    sent: Sent
    action: CaseAction


Input = Opened | Reported | Alerted | Acted
_RANK = {Opened: 0, Reported: 1, Alerted: 2, Acted: 3}  # at one instant, in the router's order


@dataclass(frozen=True)
class Moved:
    """A ``case_returned`` / ``case_assigned`` event the router published."""

    case_id: str
    event_type: str
    district: str | None


@dataclass(frozen=True)
class Refusal:
    """A refused action: a ``router.dlq`` dead letter of kind ``action_*``."""

    action_id: str | None
    source: str
    kind: str


@dataclass
class LoopInputs:
    """The inputs in time order, every action message, and what the router answered."""

    timeline: list[Input] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    moves: list[Moved] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    first_at: datetime | None = None
    last_at: datetime | None = None  # the latest input time (loop)


def read_inputs(observed: Observed, clock: LoopTime, catalog: TopicCatalog) -> LoopInputs:
    """The loop's inputs from ``observed``, in the order the router must have applied them."""
    out = LoopInputs()
    seen: set[str] = set()
    for message in observed.dispatch:
        _dispatch(message, clock, seen, out)
    for message in observed.alerts:
        value = message.value or {}
        when = parse_time(value.get("updated_at") or value.get("raised_at"))
        ids = value.get("case_ids")
        if when is not None and isinstance(ids, list):
            out.timeline.append(Alerted(clock.of_wall(when), tuple(str(i) for i in ids)))
    for message in observed.actions:
        sent = _sent(message, catalog)
        out.sent.append(sent)
        if sent.action is not None:
            out.timeline.append(Acted(sent.action.at, sent, sent.action))
    for message in observed.dead_letters:
        if is_action_refusal(message.value):
            value = message.value or {}
            external_id = value.get("external_id")
            out.refusals.append(
                Refusal(
                    external_id if isinstance(external_id, str) else None,
                    str(value.get("source") or ""),
                    str(value["error"]["kind"]),
                )
            )
    out.timeline.sort(key=lambda i: (i.at, _RANK[type(i)]))  # stable: offset order kept
    if out.timeline:
        out.first_at, out.last_at = out.timeline[0].at, out.timeline[-1].at
    return out


def _dispatch(message: Message, clock: LoopTime, seen: set[str], out: LoopInputs) -> None:
    value = message.value
    if value is None or not isinstance(value.get("event_id"), str):
        return  # malformed: the dispatch check counts it
    if value["event_id"] in seen:
        return  # a case_merged on several topics, or a copy: counted by the dispatch check
    seen.add(value["event_id"])
    kind, case_id = value.get("event_type"), value.get("case_id")
    when = parse_time(value.get("dispatched_at"))
    if not isinstance(case_id, str) or when is None:
        return
    if kind in MOVE_EVENTS:
        district = value.get("district")
        out.moves.append(Moved(case_id, str(kind), district if isinstance(district, str) else None))
        return
    at, sources = clock.of_wall(when), _sources(value.get("sources"))
    if kind == "new_case":
        district = value.get("district")
        people = value.get("people_involved")
        out.timeline.append(
            Opened(
                at,
                case_id,
                district if isinstance(district, str) else None,
                str(value.get("category")),
                people if isinstance(people, int) else 1,
                sources,
            )
        )
    elif kind in REPORT_EVENTS:
        merged = tuple(str(c) for c in value.get("merged_case_ids") or ())
        out.timeline.append(Reported(at, case_id, sources, merged))


def _sent(message: Message, catalog: TopicCatalog) -> Sent:
    actor = catalog.actor_of(message.topic) or ""
    value = message.value
    raw_id = value.get("action_id") if value is not None else None
    raw_case = value.get("case_id") if value is not None else None
    action_id = raw_id if isinstance(raw_id, str) else None
    case_id = raw_case if isinstance(raw_case, str) else None
    if value is None:
        return Sent(message.source, actor, None, None, None, "not a JSON object")
    try:
        action = CaseAction.model_validate(value)
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
        return Sent(message.source, actor, None, action_id, case_id, f"invalid: {where}")
    if action.actor != actor:
        problem = f"actor {action.actor} on the topic of {actor}"
        return Sent(message.source, actor, None, action_id, case_id, problem)
    return Sent(message.source, actor, action, action.action_id, action.case_id)


def _sources(raw: Any) -> frozenset[Source]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(
        (str(s.get("channel")), str(s.get("external_id"))) for s in raw if isinstance(s, dict)
    )
