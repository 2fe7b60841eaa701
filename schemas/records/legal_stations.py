"""The ``legal_stations`` case of a legal-service station, validated.

One module per channel, as in ``connectors/channels/``: a change to one
upstream contract touches one file.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from schemas.channels import Channel
from schemas.records.common import LENIENT, ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import IdNumber, OptText, PeopleCount, Phone, Text, Uscc, UtcTime


class StationClient(BaseModel):
    """The worker a legal-service station assists."""

    model_config = LENIENT
    name: OptText = Field(default=None, description="Name (PII).")
    phone: Phone = Field(default=None, description="Phone (PII).")
    id_number: IdNumber = Field(default=None, description="ID number (PII), if valid.")


class StationEmployer(BaseModel):
    """The employer of a legal-service case."""

    model_config = LENIENT
    name: OptText = Field(default=None, description="Employer name.")
    credit_code: Uscc = Field(default=None, description="Credit code, if valid.")
    address: OptText = Field(default=None, description="Employer address.")


class LegalStationCase(ChannelRecord):
    """One version of a ``legal_stations`` case."""

    channel: ClassVar[Channel] = Channel.LEGAL_STATIONS
    case_id: str = Field(min_length=1, description="Station case id.")
    opened_at: UtcTime = Field(description="When the case was opened (report time).")
    updated_at: UtcTime = Field(description="Time of this version.")
    client: StationClient = Field(default_factory=StationClient, description="The worker.")
    employer: StationEmployer = Field(default_factory=StationEmployer, description="Employer.")
    matter: str = Field(description="Category label, e.g. 欠薪追讨.")
    summary: Text = Field(default="", description="Free text.")
    stage: str = Field(description="咨询, 调解, 仲裁, 诉讼, 执行 or 结案.")
    amount_claimed_cny: float | None = Field(default=None, description="Amount claimed.")
    workers: PeopleCount = Field(default=1, description="Workers concerned.")

    @property
    def external_id(self) -> str:
        """The station case id."""
        return self.case_id

    def common(self) -> CommonFields:
        """See :meth:`ChannelRecord.common`."""
        return CommonFields(
            reported_at=self.opened_at,
            category_label=self.matter,
            person_name=self.client.name,
            phone=self.client.phone,
            id_number=self.client.id_number,
            employer_name=self.employer.name,
            employer_uscc=self.employer.credit_code,
            employer_address=self.employer.address,
            location=LocationHints(),
            complaint_text=self.summary,
            people_involved=self.workers,
            status_label=self.stage,
        )
