"""The ``citizen_app`` appeal (市民意速办平台), validated, and its facts in the common shape.

One module per channel, as in ``connectors/channels/``: a change to one
upstream contract touches one file.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from schemas.channels import Channel
from schemas.records.common import LENIENT, ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import IdNumber, OptText, PeopleCount, Phone, Text, Uscc, UtcTime


class Appellant(BaseModel):
    """The citizen who filed an appeal."""

    model_config = LENIENT
    name: OptText = Field(default=None, description="Full name (PII).")
    mobile: Phone = Field(default=None, description="Normalised mobile number (PII).")
    id_no: IdNumber = Field(default=None, description="Resident ID number (PII), if valid.")


class AppealSubject(BaseModel):
    """The organisation an appeal is about."""

    model_config = LENIENT
    org_name: OptText = Field(default=None, description="Employer name as typed.")
    uscc: Uscc = Field(default=None, description="Unified social credit code, if valid.")
    address: OptText = Field(default=None, description="Employer address.")


class AppealLocation(BaseModel):
    """Where the problem is, as the appellant gave it."""

    model_config = LENIENT
    district_code: OptText = Field(default=None, description="National district code.")
    district_name: OptText = Field(default=None, description="District name, e.g. 南山区.")
    street_name: OptText = Field(default=None, description="Street, e.g. 南头街道.")
    address: OptText = Field(default=None, description="Free-form address.")
    lng: float | None = Field(default=None, description="Longitude (not used for routing).")
    lat: float | None = Field(default=None, description="Latitude (not used for routing).")


class CitizenAppRecord(ChannelRecord):
    """One version of a ``citizen_app`` appeal (市民意速办平台)."""

    channel: ClassVar[Channel] = Channel.CITIZEN_APP
    appeal_id: str = Field(min_length=1, description="Stable appeal id.")
    version: int = Field(ge=1, description="+1 on every change.")
    submitted_at: UtcTime = Field(description="When the appeal was filed (report time).")
    updated_at: UtcTime = Field(description="Time of this version.")
    source: Text = Field(default="", description="i深圳APP, 微信小程序 or 网页.")
    title: Text = Field(default="", description="Appeal title.")
    content: Text = Field(default="", description="Free text.")
    category_code: str = Field(description="LAB-* category code.")
    appellant: Appellant = Field(default_factory=Appellant, description="Who filed it.")
    subject: AppealSubject | None = Field(default=None, description="The employer.")
    location: AppealLocation | None = Field(default=None, description="Problem location.")
    people_involved: PeopleCount = Field(default=1, description="Head-count.")
    status: str = Field(description="submitted, accepted, transferred or closed.")

    @property
    def external_id(self) -> str:
        """The appeal id."""
        return self.appeal_id

    def common(self) -> CommonFields:
        """See :meth:`ChannelRecord.common`."""
        subject = self.subject or AppealSubject()
        loc = self.location or AppealLocation()
        return CommonFields(
            reported_at=self.submitted_at,
            category_label=self.category_code,
            person_name=self.appellant.name,
            phone=self.appellant.mobile,
            id_number=self.appellant.id_no,
            employer_name=subject.org_name,
            employer_uscc=subject.uscc,
            employer_address=subject.address,
            location=LocationHints(
                district_name=loc.district_name,
                street_name=loc.street_name,
                district_code=loc.district_code,
                address=loc.address,
            ),
            complaint_text="\n".join(t for t in (self.title, self.content) if t),
            people_involved=self.people_involved,
            status_label=self.status,
        )
