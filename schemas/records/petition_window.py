"""The ``petition_window`` CSV row (信访窗口), keyed by its header names, validated.

One module per channel, as in ``connectors/channels/``: a change to one
upstream contract touches one file.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from schemas.channels import Channel
from schemas.records.common import ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import IdNumber, OptText, PeopleCount, Phone, Text, UtcTime


class PetitionWindowRow(ChannelRecord):
    """One row of a ``petition_window`` CSV batch (信访窗口), keyed by its header names."""

    channel: ClassVar[Channel] = Channel.PETITION_WINDOW
    reg_no: str = Field(alias="登记编号", min_length=1, description="Registration number.")
    registered_at: UtcTime = Field(alias="登记时间", description="YYYY/MM/DD HH:MM, CST.")
    name: OptText = Field(default=None, alias="来访人姓名", description="Visitor name (PII).")
    phone: Phone = Field(default=None, alias="联系电话", description="Phone (PII).")
    id_number: IdNumber = Field(default=None, alias="身份证号", description="ID number (PII).")
    employer_name: OptText = Field(default=None, alias="单位名称", description="Employer.")
    employer_address: OptText = Field(default=None, alias="单位地址", description="Address.")
    district: OptText = Field(default=None, alias="所属区", description="District name.")
    category: str = Field(alias="诉求类别", description="Category label, e.g. 拖欠工资.")
    content: Text = Field(default="", alias="诉求内容", description="Free text.")
    visitors: PeopleCount = Field(default=1, alias="来访人数", description="Group size.")

    @property
    def external_id(self) -> str:
        """The 登记编号."""
        return self.reg_no

    def common(self) -> CommonFields:
        """See :meth:`ChannelRecord.common`."""
        return CommonFields(
            reported_at=self.registered_at,
            category_label=self.category,
            person_name=self.name,
            phone=self.phone,
            id_number=self.id_number,
            employer_name=self.employer_name,
            employer_uscc=None,
            employer_address=self.employer_address,
            location=LocationHints(district_name=self.district),
            complaint_text=self.content,
            people_involved=self.visitors,
            status_label="registered",
        )
