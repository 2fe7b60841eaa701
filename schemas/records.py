"""The upstream record of each channel (``shared/spec/channels.md``), validated.

``RawEnvelope.record`` holds a record as received; :func:`parse_record` turns it
into the channel's model. Parsing validates: times become UTC-aware (an
upstream time without offset is China Standard Time), people counts are
positive integers, and resident ID numbers (GB 11643), credit codes
(GB 32100) and phones are normalised, an invalid one being kept as unknown
(``None``). A record that cannot be understood raises pydantic's
``ValidationError``; the router turns it into a dead letter.

Every model also offers :meth:`ChannelRecord.common`: the same facts under one
vocabulary-free shape (:class:`CommonFields`) for the router's normaliser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from schemas.channels import Channel
from schemas.identifiers import normalize_id_number, normalize_phone, normalize_uscc

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# More than this many people in one complaint is a typing error (or a phone number).
MAX_PEOPLE = 100_000
# Longer free text is hostile or broken input: similarity shingles and the dispatch
# event grow with it (a 10 MB complaint took 0.6 GB and 30 s to normalise).
MAX_TEXT_CHARS = 50_000

_SLASH_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?")


def to_utc(value: Any) -> datetime:
    """An upstream time as a UTC-aware datetime; a time without offset is CST (UTC+08:00).

    Accepts ISO-8601 (``T`` or space separated, with or without offset) and the
    petition window's ``YYYY/MM/DD HH:MM``. Raises ``ValueError`` otherwise
    (also for a wrong type: pydantic turns only ``ValueError`` into a validation error).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        slash = _SLASH_TIME.fullmatch(text)
        if slash:
            y, mo, d, h, mi, s = slash.groups()
            parsed = datetime(  # noqa: DTZ001 - local time, offset attached below
                int(y), int(mo), int(d), int(h), int(mi), int(s or 0)
            )
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        raise ValueError("expected a time string")  # noqa: TRY004 - pydantic needs ValueError
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's ends
        raise ValueError("time out of range") from None


def _people_count(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool):
        raise ValueError("people count must be a positive integer")  # noqa: TRY004
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError("people count must be a positive integer")
    try:
        count = int(value)
    except (TypeError, OverflowError):  # a list, an object, an infinity: pydantic wants ValueError
        raise ValueError("people count must be a positive integer") from None
    if count != value and not isinstance(value, str):
        raise ValueError("people count must be a positive integer")
    if not 1 <= count <= MAX_PEOPLE:
        raise ValueError(f"people count must be an integer from 1 to {MAX_PEOPLE}")
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("expected text")  # noqa: TRY004 - pydantic reports ValueError only
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"text longer than {MAX_TEXT_CHARS} characters")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    text = _text(value)
    return text or None


UtcTime = Annotated[AwareDatetime, BeforeValidator(to_utc)]
"""An upstream time, converted to UTC (CST assumed when it has no offset)."""
IdNumber = Annotated[str | None, BeforeValidator(lambda v: normalize_id_number(_text(v)))]
"""A valid 18-character resident ID number, or None (absent or invalid)."""
Uscc = Annotated[str | None, BeforeValidator(lambda v: normalize_uscc(_text(v)))]
"""A valid unified social credit code, or None (absent or invalid)."""
Phone = Annotated[str | None, BeforeValidator(lambda v: normalize_phone(_text(v)))]
"""A normalised phone number (digits, no +86), or None (absent or invalid)."""
PeopleCount = Annotated[int, BeforeValidator(_people_count)]
"""A positive head-count (at most MAX_PEOPLE); missing means 1."""
Text = Annotated[str, BeforeValidator(_text)]
"""Text, stripped; missing means empty."""
OptText = Annotated[str | None, BeforeValidator(_optional_text)]
"""Text, stripped; missing or empty means None."""


@dataclass(frozen=True)
class LocationHints:
    """What a record says about where the problem is (routing rule 1 and the address of 3)."""

    district_name: str | None = None  # a district as the upstream names it, possibly with city
    street_name: str | None = None
    district_code: str | None = None
    address: str | None = None  # citizen_app location.address only


@dataclass(frozen=True)
class CommonFields:
    """One record's facts in a channel-independent shape (labels still upstream's own)."""

    reported_at: datetime
    category_label: str
    person_name: str | None
    phone: str | None
    id_number: str | None
    employer_name: str | None
    employer_uscc: str | None
    employer_address: str | None
    location: LocationHints
    complaint_text: str  # title and content: the text of gazetteer rule 3 and of similarity
    people_involved: int
    status_label: str


_LENIENT = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ChannelRecord(BaseModel):
    """Base of the five channel models."""

    model_config = _LENIENT
    channel: ClassVar[Channel]

    @property
    def external_id(self) -> str:
        """The upstream's stable id."""
        raise NotImplementedError

    def common(self) -> CommonFields:
        """This record's facts under the channel-independent shape."""
        raise NotImplementedError


# --- citizen_app -----------------------------------------------------------------


class Appellant(BaseModel):
    """The citizen who filed an appeal."""

    model_config = _LENIENT
    name: OptText = Field(default=None, description="Full name (PII).")
    mobile: Phone = Field(default=None, description="Normalised mobile number (PII).")
    id_no: IdNumber = Field(default=None, description="Resident ID number (PII), if valid.")


class AppealSubject(BaseModel):
    """The organisation an appeal is about."""

    model_config = _LENIENT
    org_name: OptText = Field(default=None, description="Employer name as typed.")
    uscc: Uscc = Field(default=None, description="Unified social credit code, if valid.")
    address: OptText = Field(default=None, description="Employer address.")


class AppealLocation(BaseModel):
    """Where the problem is, as the appellant gave it."""

    model_config = _LENIENT
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


# --- petition_window -----------------------------------------------------------


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


# --- hotline_12351 -------------------------------------------------------------


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


# --- provincial_petition -------------------------------------------------------


class Petitioner(BaseModel):
    """信访人: the petitioner."""

    model_config = _LENIENT
    XM: OptText = Field(default=None, description="姓名 (PII).")
    ZJHM: IdNumber = Field(default=None, description="证件号码 (PII), if a valid ID number.")
    LXDH: Phone = Field(default=None, description="联系电话 (PII).")


class ReportedOrg(BaseModel):
    """被反映单位: the organisation complained about."""

    model_config = _LENIENT
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


# --- legal_stations -------------------------------------------------------------


class StationClient(BaseModel):
    """The worker a legal-service station assists."""

    model_config = _LENIENT
    name: OptText = Field(default=None, description="Name (PII).")
    phone: Phone = Field(default=None, description="Phone (PII).")
    id_number: IdNumber = Field(default=None, description="ID number (PII), if valid.")


class StationEmployer(BaseModel):
    """The employer of a legal-service case."""

    model_config = _LENIENT
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


RECORD_MODELS: dict[Channel, type[ChannelRecord]] = {
    m.channel: m
    for m in (
        CitizenAppRecord,
        PetitionWindowRow,
        HotlineWorkOrder,
        ProvincialPetition,
        LegalStationCase,
    )
}


def parse_record(channel: Channel, record: dict[str, Any]) -> ChannelRecord:
    """Validate ``record`` as ``channel``'s model; raises ``ValidationError`` if it cannot."""
    return RECORD_MODELS[channel].model_validate(record)
