"""The closed loop after dispatch (``shared/spec/caseloop.md``): actions, case state, SLA alerts.

- :class:`CaseAction` (``unionhub.case_action/1``) is what a district federation
  or the city desk sends on ``cases.actions.<slug>`` / ``cases.actions.city``.
- :class:`CaseState` (``unionhub.case/1``) is the value of the compacted
  ``cases.state`` topic: the current state of one case, readable by stock tools.
- :class:`SlaAlert` (``unionhub.sla_alert/1``) is a supervision alert (督办) of
  ``alerts.sla``.

The rules (which action fits which state, the clocks) are ``caseloop``'s; these
are only the shapes, validated where they enter.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.complaint import Category
from schemas.dispatch import SourceRef
from schemas.shenzhen import DISTRICT_BY_SLUG

CASE_ACTION_SCHEMA: Literal["unionhub.case_action/1"] = "unionhub.case_action/1"
CASE_SCHEMA: Literal["unionhub.case/1"] = "unionhub.case/1"
SLA_ALERT_SCHEMA: Literal["unionhub.sla_alert/1"] = "unionhub.sla_alert/1"

CITY_DESK = "city"
"""The actor name of the city desk (its action topic is ``cases.actions.city``)."""

MAX_REASON_CHARS = 2000
MAX_ACTION_ID_CHARS = 128


class ActionKind(StrEnum):
    """What an action does to a case (caseloop.md "Case action")."""

    ACCEPT = "accept"  # 签收
    CONTACT = "contact"  # first contact with the worker
    SUSPEND = "suspend"  # the resolve clock stops (arbitration, court, inspection)
    RESUME = "resume"
    RESOLVE = "resolve"  # 办结
    RETURN = "return"  # 退回: not this district's case
    ASSIGN = "assign"  # city desk only: to a district
    VISIT = "visit"  # 回访, after resolve
    NOTE = "note"  # a remark; changes nothing


class ResolveResult(StrEnum):
    """The outcome a ``resolve`` records."""

    RESOLVED = "resolved"
    PARTLY_RESOLVED = "partly_resolved"
    EXPLAINED = "explained"
    REFERRED = "referred"


class Satisfaction(StrEnum):
    """What the worker said on the return visit."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    UNREACHABLE = "unreachable"


class CaseStatus(StrEnum):
    """Where a case stands."""

    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    RESOLVED = "resolved"
    RETURNED = "returned"
    CLOSED = "closed"


class Urgency(StrEnum):
    """The time-limit class of a case (caseloop.md "Urgency and time limits")."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    GENERAL = "general"


class ClockName(StrEnum):
    """The three clocks of a case."""

    ACCEPT = "accept"
    CONTACT = "contact"
    RESOLVE = "resolve"


class SlaLevel(StrEnum):
    """Supervision levels: a clock's 80 %, 100 % and 200 %, and two loop events."""

    WARNING = "warning"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    DISSATISFIED = "dissatisfied"


REQUIRED_FIELD: dict[ActionKind, str] = {
    ActionKind.SUSPEND: "reason",
    ActionKind.RESOLVE: "result",
    ActionKind.ASSIGN: "to_district",
    ActionKind.VISIT: "satisfaction",
}
"""The field each action cannot do without (a refusal names it)."""


def is_actor(name: str) -> bool:
    """Whether ``name`` is a district slug or the city desk."""
    return name == CITY_DESK or name in DISTRICT_BY_SLUG


class CaseAction(BaseModel):
    """One action on one case; ``action_id`` is the sender's idempotency key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["unionhub.case_action/1"] = Field(default=CASE_ACTION_SCHEMA, alias="schema")
    action_id: str = Field(
        min_length=1,
        max_length=MAX_ACTION_ID_CHARS,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Unique per action, chosen by the sender; the same id is applied once.",
    )
    case_id: str = Field(min_length=1, max_length=200, description="The case acted on.")
    actor: str = Field(description="District slug or 'city'; must match the action topic.")
    action: ActionKind
    at: AwareDatetime = Field(description="When it happened (UTC).")
    result: ResolveResult | None = Field(default=None, description="resolve: the outcome.")
    to_district: str | None = Field(
        default=None, description="assign: the new district; return: a suggestion."
    )
    satisfaction: Satisfaction | None = Field(default=None, description="visit: the answer.")
    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON_CHARS,
        description="Free text; personal numbers in it are masked before it is stored.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not is_actor(self.actor):
            raise ValueError(f"actor: {self.actor[:40]!r} is neither a district nor 'city'")
        if self.to_district is not None and self.to_district not in DISTRICT_BY_SLUG:
            raise ValueError(f"to_district: {self.to_district[:40]!r} is not a district slug")
        needed = REQUIRED_FIELD.get(self.action)
        if needed is not None and not getattr(self, needed):
            raise ValueError(f"{needed}: required for {self.action}")
        return self

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()


class ClockView(BaseModel):
    """One clock as readers see it: when it falls due, when it was met."""

    model_config = ConfigDict(frozen=True)

    started_at: AwareDatetime | None = Field(description="Start of its current run.")
    due_at: AwareDatetime | None = Field(description="Deadline; null while paused or stopped.")
    met_at: AwareDatetime | None = Field(description="When it was met; null while open.")
    state: Literal["running", "paused", "stopped", "met"]
    unit: Literal["hours", "working_days"] = Field(description="How its time is counted.")


class ResolveRun(BaseModel):
    """One run of the resolve clock: the first, and one more per reopening or assignment."""

    model_config = ConfigDict(frozen=True)

    started_at: AwareDatetime
    due_at: AwareDatetime | None = Field(description="Its deadline; null while suspended.")
    resolved_at: AwareDatetime | None = Field(description="When this run was resolved.")
    stopped_at: AwareDatetime | None = Field(
        default=None, description="When a return ended it unresolved (the case left)."
    )
    result: ResolveResult | None = None


class HistoryEntry(BaseModel):
    """One applied action (or loop event) in a case's history."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    action: str = Field(description="The action, or a loop event: reopen, auto_close.")
    actor: str
    at: AwareDatetime
    detail: str | None = Field(
        default=None,
        description="visit: the answer; resolve: the result; return: the returning district.",
    )
    reason: str | None = Field(
        default=None,
        description="resolve: the district's reason, numbers masked; what the worker's "
        "channel is told with the result.",
    )


class CaseState(BaseModel):
    """The current state of one case (value of ``cases.state``, key case id)."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.case/1"] = Field(default=CASE_SCHEMA, alias="schema")
    case_id: str
    version: int = Field(ge=1, description="+1 on every change of this case's state.")
    district: str | None = Field(description="District slug; null while in triage.")
    category: Category
    urgency: Urgency
    status: CaseStatus
    clocks: dict[ClockName, ClockView] = Field(
        description="accept, contact and resolve; empty for a triage case not assigned yet."
    )
    runs: list[ResolveRun] = Field(description="Every run of the resolve clock, oldest first.")
    reopened: int = Field(ge=0, description="Times the case was reopened.")
    returned: int = Field(ge=0, description="Times a district returned it.")
    satisfaction: Satisfaction | None = Field(description="The last visit's answer.")
    result: ResolveResult | None = Field(description="The last resolve's outcome.")
    resolved_at: AwareDatetime | None = Field(description="The last resolve, if resolved.")
    closed_at: AwareDatetime | None
    dispatched_at: AwareDatetime = Field(description="First dispatch (or the last assign).")
    street: str | None = Field(description="Street the routing named, if any.")
    sources: list[SourceRef] = Field(description="Every report of the case.")
    history: list[HistoryEntry]
    updated_at: AwareDatetime

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()


class SlaAlert(BaseModel):
    """A supervision alert: a clock passed 80, 100 or 200 %; a reopening; a dissatisfied visit."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.sla_alert/1"] = Field(default=SLA_ALERT_SCHEMA, alias="schema")
    alert_id: str = Field(description="Deterministic per (case, clock, level, reopening).")
    case_id: str
    district: str | None
    clock: ClockName
    level: SlaLevel
    reopening: int = Field(ge=0, description="Which run of the case (0 before any reopening).")
    due_at: AwareDatetime | None = Field(description="The clock's deadline.")
    level_at: AwareDatetime = Field(description="When the level was reached (its true time).")
    raised_at: AwareDatetime = Field(description="When unionhub raised it.")
    urgency: Urgency
    category: Category

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()
