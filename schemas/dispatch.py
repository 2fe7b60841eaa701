"""Dispatch events (``unionhub.dispatch/1``) of ``dispatch.<slug>`` and ``dispatch.triage``."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.channels import Channel
from schemas.complaint import Category, Complainant, Employer, Location, Status, TriageReason

DISPATCH_SCHEMA: Literal["unionhub.dispatch/1"] = "unionhub.dispatch/1"


class EventType(StrEnum):
    """What a dispatch event tells about its case."""

    NEW_CASE = "new_case"
    DUPLICATE_REPORT = "duplicate_report"
    CASE_UPDATED = "case_updated"
    CASE_MERGED = "case_merged"
    CASE_RETURNED = "case_returned"  # caseloop.md: a district returned it; to dispatch.triage
    CASE_ASSIGNED = "case_assigned"  # caseloop.md: the city desk assigned it to a district


class ReportRef(BaseModel):
    """The report version an event is about."""

    model_config = ConfigDict(frozen=True)

    channel: Channel = Field(description="Upstream channel.")
    external_id: str = Field(description="Upstream id.")
    version: str = Field(description="Version label of dispatch.md.")
    reported_at: AwareDatetime = Field(description="Upstream report time, UTC.")
    fetched_at: AwareDatetime = Field(description="When the connector fetched it, UTC.")


class SourceRef(BaseModel):
    """One report of a case."""

    model_config = ConfigDict(frozen=True)

    channel: Channel = Field(description="Upstream channel.")
    external_id: str = Field(description="Upstream id.")


class DispatchEvent(BaseModel):
    """One event of a case, as a district federation (or the city desk) reads it."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.dispatch/1"] = Field(default=DISPATCH_SCHEMA, alias="schema")
    event_id: str = Field(description="Unique per event; deterministic per report version.")
    event_type: EventType = Field(description="new_case, duplicate_report, ...")
    case_id: str = Field(description="Stable id of the case (of the survivor after a merge).")
    district: str | None = Field(description="District slug; null on dispatch.triage.")
    routing_reason: str = Field(description="Which rule placed the case, human-readable.")
    triage_reason: TriageReason | None = Field(description="Set on dispatch.triage.")
    category: Category = Field(description="Category of this report.")
    report: ReportRef = Field(description="The report version of this event.")
    sources: list[SourceRef] = Field(description="Every report of this case so far.")
    merged_case_ids: list[str] = Field(
        default_factory=list, description="case_merged only: the cases merged into case_id."
    )
    complainant: Complainant | None = Field(description="Masked complainant, or null.")
    employer: Employer | None = Field(description="Employer of this report, or null.")
    location: Location = Field(description="Problem location.")
    people_involved: int = Field(ge=1, description="Head-count; 1 where the channel has none.")
    summary: str = Field(description="Complaint text, ID and phone numbers masked.")
    status: Status = Field(description="Upstream status, normalised.")
    dispatched_at: AwareDatetime = Field(description="When the router emitted it (UTC).")

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()
