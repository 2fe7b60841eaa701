"""Reading each channel's records into what the rules of dispatch.md look at.

Works on the records as served (JSON objects, CSV cells, XML element dicts),
never on the generator's incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from schemas.channels import Channel
from schemas.shenzhen import DISTRICTS
from simulators.truth import gazetteer
from simulators.truth.normalize import employer_name_key, id_key, phone_key, trigrams, uscc_key

CST = timezone(timedelta(hours=8))
OUTSIDE = "triage:outside_jurisdiction"
UNPLACED = "triage:unplaced"

CATEGORY: dict[str, str] = {
    "LAB-WAGE": "wage_arrears", "LAB-INJURY": "work_injury",
    "LAB-INSURANCE": "social_insurance", "LAB-CONTRACT": "labor_contract",
    "LAB-DISMISS": "dismissal", "LAB-HOURS": "working_hours",
    "LAB-SAFETY": "occupational_safety", "LAB-OTHER": "other",
    "拖欠工资": "wage_arrears", "工伤待遇": "work_injury", "社会保险": "social_insurance",
    "劳动合同": "labor_contract", "解除劳动合同": "dismissal", "加班休假": "working_hours",
    "劳动保护": "occupational_safety", "其他": "other",
    "欠薪": "wage_arrears", "工伤": "work_injury", "社保": "social_insurance",
    "辞退": "dismissal", "加班": "working_hours", "职业安全": "occupational_safety",
    "咨询": "other",
    "劳动社保-拖欠工资": "wage_arrears", "劳动社保-工伤保险": "work_injury",
    "劳动社保-社会保险": "social_insurance", "劳动社保-劳动合同": "labor_contract",
    "劳动社保-解除劳动关系": "dismissal", "劳动社保-工时休假": "working_hours",
    "劳动社保-劳动保护": "occupational_safety", "劳动社保-其他": "other",
    "欠薪追讨": "wage_arrears", "工伤认定": "work_injury", "工伤赔偿": "work_injury",
    "社保争议": "social_insurance", "劳动合同争议": "labor_contract", "违法解除": "dismissal",
    "加班费争议": "working_hours", "职业病": "occupational_safety",
    "劳动争议咨询": "other",
}  # fmt: skip
_DISTRICT_BY_NAME = {d.name: d.slug for d in DISTRICTS}


@dataclass(frozen=True)
class Report:
    """The dedupe, routing and alert facts of one report (its first version)."""

    channel: str
    external_id: str
    reported_at: datetime
    phone: str | None
    id_number: str | None
    uscc: str | None
    employer_name: str | None
    category: str
    text: frozenset[str]
    people_involved: int
    placement: str  # a district slug, OUTSIDE or UNPLACED
    rule: str

    @property
    def ref(self) -> tuple[str, str]:
        """(channel, external_id)."""
        return (self.channel, self.external_id)

    @property
    def persons(self) -> tuple[str, ...]:
        """Identity keys: ``id:...`` and ``phone:...``."""
        keys = []
        if self.id_number:
            keys.append("id:" + self.id_number)
        if self.phone:
            keys.append("phone:" + self.phone)
        return tuple(keys)

    @property
    def has_employer(self) -> bool:
        """Whether the report names an employer at all (by code or name)."""
        return bool(self.uscc or self.employer_name)


def _local(value: str, fmt: str | None = None) -> datetime:
    if fmt is not None:
        return datetime.strptime(value, fmt).replace(tzinfo=CST).astimezone(UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CST)
    return parsed.astimezone(UTC)


def _place(
    own: list[gazetteer.Evidence] | None,
    code: str | None,
    employer_address: str | None,
    location_address: str | None,
    texts: list[str],
    employer_name: str | None,
    station_district: str | None,
) -> tuple[str, str]:
    """Rules 1-4 of dispatch.md "Routing"; returns (placement, rule)."""
    if own is not None:
        districts = frozenset().union(*(e.districts for e in own))
        if len(districts) == 1:
            return next(iter(districts)), "rule1:location"
        if not districts and any(e.outside for e in own):
            return OUTSIDE, "rule1:location"
        if not districts and gazetteer.code_district(code):
            return str(gazetteer.code_district(code)), "rule1:district_code"
    for evidence, rule, may_leave in (
        (gazetteer.evidence(employer_address), "rule2:employer_address", True),
        (gazetteer.evidence(location_address), "rule3:location_address", True),
        (gazetteer.evidence(gazetteer.without_names("".join(texts))), "rule3:text", False),
        (gazetteer.evidence(employer_name), "rule3:employer_name", False),
    ):
        if evidence.district() is not None:
            return str(evidence.district()), rule
        if may_leave and not evidence.districts and evidence.outside:
            return OUTSIDE, rule
    if station_district is not None:
        return station_district, "rule4:station"
    return UNPLACED, "none"


def read_report(
    channel: str, external_id: str, record: dict[str, Any], station_district: str | None
) -> Report:
    """The facts of one record version (dispatch.md reads the first version)."""
    ev = gazetteer.evidence
    if channel == Channel.CITIZEN_APP:
        appellant, subject = record["appellant"], record["subject"]
        loc = record["location"]
        own = [ev(loc.get("district_name")), ev(loc.get("street_name"))]
        placement = _place(
            own, loc.get("district_code"), subject.get("address"), loc.get("address"),
            [record.get("title") or "", record.get("content") or ""], subject.get("org_name"),
            None,
        )  # fmt: skip
        return Report(
            channel, external_id, _local(record["submitted_at"]),
            phone_key(appellant.get("mobile")), id_key(appellant.get("id_no")),
            uscc_key(subject.get("uscc")), employer_name_key(subject.get("org_name")),
            CATEGORY[record["category_code"]],
            trigrams((record.get("title") or "") + (record.get("content") or "")),
            int(record.get("people_involved") or 1), *placement,
        )  # fmt: skip
    if channel == Channel.PETITION_WINDOW:
        placement = _place(
            [ev(record["所属区"])], None, record["单位地址"], None, [record["诉求内容"]],
            record["单位名称"], None,
        )  # fmt: skip
        return Report(
            channel, external_id, _local(record["登记时间"], "%Y/%m/%d %H:%M"),
            phone_key(record["联系电话"]), id_key(record["身份证号"]), None,
            employer_name_key(record["单位名称"]), CATEGORY[record["诉求类别"]],
            trigrams(record["诉求内容"]), int(record["来访人数"]), *placement,
        )  # fmt: skip
    if channel == Channel.HOTLINE_12351:
        placement = _place(
            [ev(record["area"])], None, record["company_address"], None, [record["content"]],
            record["company_name"], None,
        )  # fmt: skip
        return Report(
            channel, external_id, _local(record["call_time"], "%Y-%m-%d %H:%M:%S"),
            phone_key(record["caller_phone"]), id_key(record["caller_id_card"]), None,
            employer_name_key(record["company_name"]), CATEGORY[record["order_type"]],
            trigrams(record["content"]), 1, *placement,
        )  # fmt: skip
    if channel == Channel.PROVINCIAL_PETITION:
        person, unit = record["XFR"], record["BFYDW"]
        placement = _place(
            [ev(record["WTSD"])], None, unit["DWDZ"], None, [record["XFMD"]], unit["DWMC"], None
        )
        return Report(
            channel, external_id, _local(record["DJSJ"]),
            phone_key(person["LXDH"]), id_key(person["ZJHM"]), uscc_key(unit["TYSHXYDM"]),
            employer_name_key(unit["DWMC"]), CATEGORY[record["NRFL"]],
            trigrams(record["XFMD"]), int(record["RS"]), *placement,
        )  # fmt: skip
    if channel == Channel.LEGAL_STATIONS:
        client, employer = record["client"], record["employer"]
        station_slug = _DISTRICT_BY_NAME.get(station_district or "")
        placement = _place(
            None, None, employer.get("address"), None, [record.get("summary") or ""],
            employer.get("name"), station_slug,
        )  # fmt: skip
        return Report(
            channel, external_id, _local(record["opened_at"]),
            phone_key(client.get("phone")), id_key(client.get("id_number")),
            uscc_key(employer.get("credit_code")), employer_name_key(employer.get("name")),
            CATEGORY[record["matter"]], trigrams(record.get("summary") or ""),
            int(record.get("workers") or 1), *placement,
        )  # fmt: skip
    raise ValueError(f"unknown channel {channel!r}")
