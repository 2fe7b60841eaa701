"""Risk alerts (``unionhub.alert/1``) of ``alerts.risk``: early warning of collective disputes."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.complaint import Employer

ALERT_SCHEMA: Literal["unionhub.alert/1"] = "unionhub.alert/1"


class AlertKind(StrEnum):
    """What raised an alert."""

    GROUP_DISPUTE = "group_dispute"  # >= 5 distinct persons vs one employer within 7 days
    MASS_REPORT = "mass_report"  # one report with people_involved >= 10


class Alert(BaseModel):
    """One alert; re-published with the same ``alert_id`` as further cases join it."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.alert/1"] = Field(default=ALERT_SCHEMA, alias="schema")
    alert_id: str = Field(description="Stable id; deterministic from the raising report.")
    kind: AlertKind = Field(description="group_dispute or mass_report.")
    employer: Employer | None = Field(description="The employer; null for a mass report without.")
    employer_key: str | None = Field(description="The Kafka key: the employer's identity.")
    district: str | None = Field(description="District slug of the raising case, or null.")
    case_ids: list[str] = Field(description="Cases concerned, in order of joining.")
    persons: int = Field(ge=0, description="Distinct persons (person identities) concerned.")
    people_involved: int = Field(ge=1, description="Largest head-count of one report.")
    window_start: AwareDatetime = Field(description="Earliest report time concerned (UTC).")
    window_end: AwareDatetime = Field(description="Latest report time concerned (UTC).")
    open_until: AwareDatetime = Field(
        description="Report time until which further reports update this alert."
    )
    raised_at: AwareDatetime = Field(description="When the router first raised it (UTC).")
    updated_at: AwareDatetime = Field(description="When this version was published (UTC).")

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()
