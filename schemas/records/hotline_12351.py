"""The ``hotline_12351`` work order (12351 热线工单), validated, and its facts in the common shape.

One module per channel, as in ``connectors/channels/``: a change to one
upstream contract touches one file.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from schemas.channels import Channel
from schemas.records.common import ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import IdNumber, OptText, Phone, Text, UtcTime


class HotlineWorkOrder(ChannelRecord):
    """One version of a ``hotline_12351`` work order (12351 热线工单)."""

    channel: ClassVar[Channel] = Channel.HOTLINE_12351
    order_no: str = Field(min_length=1, description="Work order number.")
    call_time: UtcTime = Field(description="When the call came in (report time).")
    update_time: Text = Field(description="Time of this version, as sent (the version label).")
    caller_name: OptText = Field(default=None, description="Caller name, empty if anonymous.")
    caller_phone: Phone = Field(default=None, description="Caller phone (PII).")
    caller_id_card: IdNumber = Field(default=None, description="ID number (PII).")
    company_name: OptText = Field(default=None, description="Employer name.")
    company_address: OptText = Field(default=None, description="Employer address.")
    area: OptText = Field(default=None, description="深圳市南山区, 深圳市, 东莞市, or empty.")
    order_type: str = Field(description="Category label, e.g. 欠薪.")
    content: Text = Field(default="", description="Free text.")
    status: str = Field(description="待派单, 已派单, 处理中 or 已办结.")

    @property
    def external_id(self) -> str:
        """The order number."""
        return self.order_no

    def common(self) -> CommonFields:
        """See :meth:`ChannelRecord.common`; ``handle_result`` is not complaint text."""
        return CommonFields(
            reported_at=self.call_time,
            category_label=self.order_type,
            person_name=self.caller_name,
            phone=self.caller_phone,
            id_number=self.caller_id_card,
            employer_name=self.company_name,
            employer_uscc=None,
            employer_address=self.company_address,
            location=LocationHints(district_name=self.area),
            complaint_text=self.content,
            people_involved=1,
            status_label=self.status,
        )
