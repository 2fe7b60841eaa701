"""The canonical complaint: one report version after normalisation (router stage 1).

:class:`NormalizedReport` is the value of the internal ``router_normalized``
topic, the contract between the router's stateless stage (parse, normalise,
pseudonymise, place) and its stateful stage (dedupe, dispatch, alerts). It
already holds only masked or pseudonymised personal data; the private match
keys the dedupe stage needs are keyed hashes (HMAC), never clear text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.channels import Channel

NORMALIZED_SCHEMA: Literal["unionhub.normalized/1"] = "unionhub.normalized/1"


class Category(StrEnum):
    """The eight canonical complaint categories of ``dispatch.md``."""

    WAGE_ARREARS = "wage_arrears"
    WORK_INJURY = "work_injury"
    SOCIAL_INSURANCE = "social_insurance"
    LABOR_CONTRACT = "labor_contract"
    DISMISSAL = "dismissal"
    WORKING_HOURS = "working_hours"
    OCCUPATIONAL_SAFETY = "occupational_safety"
    OTHER = "other"


class Status(StrEnum):
    """Upstream statuses, normalised across channels."""

    RECEIVED = "received"  # submitted / registered / 待派单 / legal 咨询
    ACCEPTED = "accepted"  # accepted / 已派单
    TRANSFERRED = "transferred"  # citizen_app transferred
    IN_PROGRESS = "in_progress"  # 处理中 / legal 调解 仲裁 诉讼 执行
    CLOSED = "closed"  # closed / 已办结 / legal 结案


class TriageReason(StrEnum):
    """Why a case went to ``dispatch.triage``."""

    OUTSIDE_JURISDICTION = "outside_jurisdiction"
    UNPLACED = "unplaced"
    RETURNED = "returned"  # caseloop.md: a district returned the case to the city desk


class Complainant(BaseModel):
    """The person who complained, masked and pseudonymised."""

    model_config = ConfigDict(frozen=True)

    name_masked: str | None = Field(description="Family name kept, the rest '*', e.g. 陈*.")
    phone_masked: str | None = Field(description="e.g. 138****5678; landlines keep the area.")
    person_key: str | None = Field(
        description="Keyed HMAC pseudonym of the ID number (else of the phone); stable "
        "per person and key, null when the person has neither."
    )


class Employer(BaseModel):
    """The employer complained about, as reported (numbers in text masked)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = Field(description="Employer name as reported.")
    uscc: str | None = Field(description="Valid unified social credit code, else null.")
    address: str | None = Field(description="Employer address as reported.")


class Location(BaseModel):
    """Where the problem is."""

    model_config = ConfigDict(frozen=True)

    street: str | None = Field(description="Street (街道/镇) without suffix, if one was named.")
    address: str | None = Field(description="The record's own problem address, if any.")


class Placement(BaseModel):
    """Where a report would place its case (属地), and which rule decided."""

    model_config = ConfigDict(frozen=True)

    district: str | None = Field(description="District slug, null for dispatch.triage.")
    routing_reason: str = Field(description="Which rule decided, human-readable.")
    triage_reason: TriageReason | None = Field(description="Set when district is null.")
    street: str | None = Field(default=None, description="The street that decided, if any.")


class EmployerMatch(BaseModel):
    """The employer's dedupe identity (dispatch.md "same employer")."""

    model_config = ConfigDict(frozen=True)

    uscc: str | None = Field(description="Valid credit code, compared when both have one.")
    name: str | None = Field(description="Normalised name, compared otherwise.")

    @property
    def key(self) -> str:
        """One string per employer for alerts and Kafka keys: the name, else the code."""
        return f"name:{self.name}" if self.name else f"uscc:{self.uscc}"


class NormalizedReport(BaseModel):
    """One report version, normalised, pseudonymised and placed."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.normalized/1"] = Field(default=NORMALIZED_SCHEMA, alias="schema")
    channel: Channel = Field(description="Upstream channel.")
    connector: str = Field(description="Connector config that fetched it.")
    external_id: str = Field(description="Upstream stable id.")
    version: str = Field(description="The report.version label of dispatch.md.")
    version_key: str = Field(
        description="Sortable form of the version (newer sorts later within one report)."
    )
    reported_at: AwareDatetime = Field(description="Upstream report time, UTC.")
    fetched_at: AwareDatetime = Field(description="When the connector fetched it, UTC.")
    trace_id: str = Field(description="Trace id carried to the dispatch event headers.")
    source: str = Field(description="topic-partition-offset of the raw record.")
    category: Category = Field(description="Canonical category.")
    status: Status = Field(description="Normalised upstream status.")
    people_involved: int = Field(ge=1, description="Head-count, 1 where the channel has none.")
    complainant: Complainant | None = Field(description="Masked person, null if anonymous.")
    person_tokens: list[str] = Field(
        description="Keyed hashes of the normalised ID number and phone: the person identity."
    )
    employer: Employer | None = Field(description="Employer as reported, null if none.")
    employer_match: EmployerMatch | None = Field(
        description="Employer identity for dedupe; null when neither code nor name is known."
    )
    location: Location = Field(description="Problem location.")
    placement: Placement = Field(description="Routing decision for a case this report opens.")
    summary: str = Field(description="Complaint text, ID and phone numbers masked.")
    shingles: list[int] = Field(
        description="Sorted keyed 31-bit hashes of the character 3-grams of the complaint "
        "text with spaces removed (for the Jaccard rule, without clear text)."
    )

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()
