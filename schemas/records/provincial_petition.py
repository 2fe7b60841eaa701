"""The ``provincial_petition`` petition (XML element names kept), validated.

One module per channel, as in ``connectors/channels/``: a change to one
upstream contract touches one file.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from schemas.channels import Channel
from schemas.records.common import LENIENT, ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import IdNumber, OptText, PeopleCount, Phone, Text, Uscc, UtcTime


class Petitioner(BaseModel):
    """信访人: the petitioner."""

    model_config = LENIENT
    XM: OptText = Field(default=None, description="姓名 (PII).")
    ZJHM: IdNumber = Field(default=None, description="证件号码 (PII), if a valid ID number.")
    LXDH: Phone = Field(default=None, description="联系电话 (PII).")


class ReportedOrg(BaseModel):
    """被反映单位: the organisation complained about."""

    model_config = LENIENT
    DWMC: OptText = Field(default=None, description="单位名称.")
    TYSHXYDM: Uscc = Field(default=None, description="统一社会信用代码, if valid.")
    DWDZ: OptText = Field(default=None, description="单位地址.")


class ProvincialPetition(ChannelRecord):
    """One version of a ``provincial_petition`` petition (XML element names kept)."""

    channel: ClassVar[Channel] = Channel.PROVINCIAL_PETITION
    XFJBH: str = Field(min_length=1, description="信访件编号, the id.")
    BBH: int = Field(ge=1, description="版本号.")
    DJSJ: UtcTime = Field(description="登记时间 (report time).")
    XFXS: Text = Field(default="", description="信访形式.")
    XFR: Petitioner = Field(default_factory=Petitioner, description="信访人.")
    BFYDW: ReportedOrg = Field(default_factory=ReportedOrg, description="被反映单位.")
    WTSD: OptText = Field(default=None, description="问题属地, e.g. 深圳市南山区.")
    NRFL: str = Field(description="内容分类, e.g. 劳动社保-拖欠工资.")
    RS: PeopleCount = Field(default=1, description="人数.")
    XFMD: Text = Field(default="", description="信访目的/内容.")

    @property
    def external_id(self) -> str:
        """The 信访件编号."""
        return self.XFJBH

    def common(self) -> CommonFields:
        """See :meth:`ChannelRecord.common`."""
        return CommonFields(
            reported_at=self.DJSJ,
            category_label=self.NRFL,
            person_name=self.XFR.XM,
            phone=self.XFR.LXDH,
            id_number=self.XFR.ZJHM,
            employer_name=self.BFYDW.DWMC,
            employer_uscc=self.BFYDW.TYSHXYDM,
            employer_address=self.BFYDW.DWDZ,
            location=LocationHints(district_name=self.WTSD),
            complaint_text=self.XFMD,
            people_involved=self.RS,
            status_label="registered",
        )
