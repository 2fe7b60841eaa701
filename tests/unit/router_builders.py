"""Builders of upstream records, envelopes and normalised reports for the router's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from router.normalize.normalizer import Normalizer
from schemas.channels import Channel
from schemas.complaint import NormalizedReport
from schemas.identifiers import id_number_check_char, uscc_check_char
from schemas.raw import RawEnvelope, StationRef

KEY = b"test-pseudonym-key"
T0 = datetime(2025, 5, 23, 6, 0, tzinfo=UTC)


def id_number(serial: int) -> str:
    """A valid resident ID number (GB 11643) distinct per serial."""
    first17 = f"44030519900101{serial:03d}"
    return first17 + id_number_check_char(first17)


def uscc(serial: int) -> str:
    """A valid unified social credit code (GB 32100) distinct per serial."""
    first17 = f"91440300MA5F{serial:05d}"
    return first17 + uscc_check_char(first17)


def mobile(serial: int) -> str:
    """A mainland mobile number distinct per serial."""
    return f"138{serial:08d}"


def appeal(
    appeal_id: str = "MY1",
    *,
    version: int = 1,
    at: datetime = T0,
    name: str | None = "陈望",
    phone: str | None = None,
    id_no: str | None = None,
    employer: str | None = "深圳市某某建筑工程有限公司",
    credit_code: str | None = None,
    employer_address: str | None = None,
    category: str = "LAB-WAGE",
    title: str = "项目部拖欠工资",
    content: str = "项目部拖欠三个月工资，多次讨要未果",
    district_name: str | None = "南山区",
    street_name: str | None = None,
    district_code: str | None = None,
    address: str | None = None,
    people: int = 1,
    status: str = "submitted",
) -> dict[str, Any]:
    """A citizen_app appeal record as the upstream serves it."""
    return {
        "appeal_id": appeal_id,
        "version": version,
        "submitted_at": at.isoformat(),
        "updated_at": (at + timedelta(minutes=version)).isoformat(),
        "source": "i深圳APP",
        "title": title,
        "content": content,
        "category_code": category,
        "appellant": {"name": name, "mobile": phone, "id_no": id_no},
        "subject": {"org_name": employer, "uscc": credit_code, "address": employer_address},
        "location": {
            "district_code": district_code,
            "district_name": district_name,
            "street_name": street_name,
            "address": address,
            "lng": None,
            "lat": None,
        },
        "people_involved": people,
        "attachments": [],
        "status": status,
    }


def envelope(
    channel: Channel,
    record: dict[str, Any],
    external_id: str,
    version: str,
    station: StationRef | None = None,
) -> RawEnvelope:
    """The envelope a connector writes for ``record``."""
    return RawEnvelope(
        channel=channel,
        connector=f"{channel}-test",
        external_id=external_id,
        version=version,
        fetched_at=T0 + timedelta(hours=1),
        source="test",
        station=station,
        record=record,
    )


def appeal_envelope(**kwargs: Any) -> RawEnvelope:
    """An envelope holding :func:`appeal` (kwargs as there)."""
    record = appeal(**kwargs)
    return envelope(Channel.CITIZEN_APP, record, record["appeal_id"], str(record["version"]))


def report(**kwargs: Any) -> NormalizedReport:
    """The normalised report of :func:`appeal` (kwargs as there)."""
    return Normalizer(KEY).normalize(appeal_envelope(**kwargs), "test-0-0")


def hotline_order(order_no: str = "GD1", **overrides: Any) -> dict[str, Any]:
    """A hotline_12351 work order."""
    order = {
        "order_no": order_no,
        "call_time": "2025-05-23 14:05:09",
        "update_time": "2025-05-23 14:20:41",
        "caller_name": "陈望",
        "caller_phone": "13812345678",
        "caller_id_card": "",
        "company_name": "深圳市某某建筑工程有限公司",
        "company_address": "",
        "area": "深圳市南山区",
        "order_type": "欠薪",
        "content": "老板拖欠工资",
        "status": "待派单",
        "handle_result": "",
        "satisfaction": "",
    }
    return order | overrides


def petition_row(reg_no: str = "DJ1", **overrides: Any) -> dict[str, Any]:
    """A petition_window CSV row (header -> cell)."""
    row = {
        "登记编号": reg_no,
        "登记时间": "2025/05/23 14:05",
        "来访人姓名": "陈望",
        "联系电话": "13812345678",
        "身份证号": "",
        "单位名称": "深圳市某某建筑工程有限公司",
        "单位地址": "",
        "所属区": "南山区",
        "诉求类别": "拖欠工资",
        "诉求内容": "拖欠工资三个月",
        "来访人数": "1",
        "接待人": "王接待",
    }
    return row | overrides


def provincial_petition(xfjbh: str = "4403001", **overrides: Any) -> dict[str, Any]:
    """A provincial_petition element (local name -> text, nested groups)."""
    petition: dict[str, Any] = {
        "XFJBH": xfjbh,
        "BBH": "1",
        "DJSJ": "2025-05-23T14:05:09",
        "XFXS": "网上信访",
        "XFR": {"XM": "陈望", "ZJHM": "", "LXDH": "13812345678"},
        "BFYDW": {"DWMC": "深圳市某某建筑工程有限公司", "TYSHXYDM": "", "DWDZ": ""},
        "WTSD": "深圳市南山区",
        "NRFL": "劳动社保-拖欠工资",
        "RS": "1",
        "XFMD": "拖欠工资",
    }
    return petition | overrides


def station_case(case_id: str = "NS-001-2025-0042", **overrides: Any) -> dict[str, Any]:
    """A legal_stations case."""
    case: dict[str, Any] = {
        "case_id": case_id,
        "opened_at": "2025-05-23T14:05:09+08:00",
        "updated_at": "2025-06-02T09:30:00+08:00",
        "client": {"name": "陈望", "phone": "13812345678", "id_number": None},
        "employer": {"name": None, "credit_code": None, "address": None},
        "matter": "欠薪追讨",
        "summary": "追讨欠薪",
        "stage": "调解",
        "amount_claimed_cny": 37000,
        "workers": 1,
        "lawyer": "马询",
    }
    return case | overrides
