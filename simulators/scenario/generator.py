"""The seeded scenario generator: incidents, and every record version each channel serves.

Deterministic per (options, anchor): one ``random.Random(seed)`` drives every
choice, in a fixed order. Scenario time is counted in seconds from the anchor
(negative: backlog). The live part's times are compressed by ``speed`` when
mapped to wall-clock time, so its records carry the times at which they are
actually released (upstream systems run on real time).

Invariants the ground truth relies on (documented in ``simulators/README.md``):

* updates of a record never change the fields routing and dedupe read
  (identities, employer, category, location, complaint text, report time,
  head-count); they change status, stage, clerk, name typos, results;
* every report of one incident places to the same district (or the same
  triage reason), so a case's district does not depend on arrival order;
* different incidents never share a person, and share an employer only inside
  a collective dispute, whose reports all carry a person identity.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from schemas.channels import Channel
from schemas.shenzhen import DISTRICT_BY_SLUG, DISTRICTS, District
from simulators.options import SimulatorOptions
from simulators.scenario import addresses, employers, people, texts
from simulators.scenario.model import (
    Batch,
    BatchRevision,
    CsvRow,
    Employer,
    ExpectedDeadLetter,
    Incident,
    Person,
    RecordVersion,
    Scenario,
    Station,
)

CST = timezone(timedelta(hours=8))
LIVE_SPAN_S = 3600  # scenario seconds of the live part (released over LIVE_SPAN_S / speed)
CSV_HEADER = [
    "登记编号", "登记时间", "来访人姓名", "联系电话", "身份证号", "单位名称",
    "单位地址", "所属区", "诉求类别", "诉求内容", "来访人数", "接待人",
]  # fmt: skip
CLERKS = ("刘晓", "陈婧", "王海", "张敏", "李强")

LABELS: dict[Channel, dict[str, tuple[str, ...]]] = {
    Channel.CITIZEN_APP: {
        "wage_arrears": ("LAB-WAGE",), "work_injury": ("LAB-INJURY",),
        "social_insurance": ("LAB-INSURANCE",), "labor_contract": ("LAB-CONTRACT",),
        "dismissal": ("LAB-DISMISS",), "working_hours": ("LAB-HOURS",),
        "occupational_safety": ("LAB-SAFETY",), "other": ("LAB-OTHER",),
    },
    Channel.PETITION_WINDOW: {
        "wage_arrears": ("拖欠工资",), "work_injury": ("工伤待遇",),
        "social_insurance": ("社会保险",), "labor_contract": ("劳动合同",),
        "dismissal": ("解除劳动合同",), "working_hours": ("加班休假",),
        "occupational_safety": ("劳动保护",), "other": ("其他",),
    },
    Channel.HOTLINE_12351: {
        "wage_arrears": ("欠薪",), "work_injury": ("工伤",), "social_insurance": ("社保",),
        "labor_contract": ("劳动合同",), "dismissal": ("辞退",), "working_hours": ("加班",),
        "occupational_safety": ("职业安全",), "other": ("咨询", "其他"),
    },
    Channel.PROVINCIAL_PETITION: {
        c: ("劳动社保-" + n,)
        for c, n in (
            ("wage_arrears", "拖欠工资"), ("work_injury", "工伤保险"),
            ("social_insurance", "社会保险"), ("labor_contract", "劳动合同"),
            ("dismissal", "解除劳动关系"), ("working_hours", "工时休假"),
            ("occupational_safety", "劳动保护"), ("other", "其他"),
        )
    },
    Channel.LEGAL_STATIONS: {
        "wage_arrears": ("欠薪追讨",), "work_injury": ("工伤认定", "工伤赔偿"),
        "social_insurance": ("社保争议",), "labor_contract": ("劳动合同争议",),
        "dismissal": ("违法解除",), "working_hours": ("加班费争议",),
        "occupational_safety": ("职业病",), "other": ("劳动争议咨询",),
    },
}  # fmt: skip

CHANNEL_WEIGHTS = (
    (Channel.CITIZEN_APP, 35),
    (Channel.HOTLINE_12351, 25),
    (Channel.PETITION_WINDOW, 15),
    (Channel.PROVINCIAL_PETITION, 15),
    (Channel.LEGAL_STATIONS, 10),
)
DISTRICT_WEIGHTS = {
    "futian": 10, "luohu": 8, "nanshan": 12, "yantian": 3, "baoan": 16, "longgang": 16,
    "longhua": 12, "pingshan": 4, "guangming": 5, "dapeng": 3, "shenshan": 2,
}  # fmt: skip
STATION_PREFIX = {
    "futian": "FT", "luohu": "LH", "nanshan": "NS", "yantian": "YT", "baoan": "BA",
    "longgang": "LG", "longhua": "LW", "pingshan": "PS", "guangming": "GM", "dapeng": "DP",
    "shenshan": "SS",
}  # fmt: skip


@dataclass
class _Identity:
    """Which identity fields one report carries."""

    phone: str | None  # as written
    phone_key: str | None  # the generator's own notion of the number
    id_number: str | None
    id_key: str | None
    name: str


@dataclass
class _Report:
    """One planned report of an incident, before it becomes channel records."""

    key: str
    channel: Channel
    s: int  # scenario seconds of the report
    person: Person
    ident: _Identity
    employer_written: str | None
    employer_uscc: str | None
    employer_address: str | None
    category_label: str
    title: str
    content: str
    people_involved: int
    loc: dict[str, Any] = field(default_factory=dict)  # channel-specific location choices
    text_from: str | None = None  # key of the report whose text this one copies


class _Clock:
    """Maps scenario seconds to wall-clock times (live part compressed by ``speed``)."""

    def __init__(self, anchor: datetime, speed: float) -> None:
        self.anchor = anchor
        self.speed = speed

    def at(self, s: float) -> datetime:
        """Wall-clock time of scenario second ``s`` (whole seconds)."""
        real = s if s < 0 else s / self.speed
        return self.anchor + timedelta(seconds=int(real // 1))

    def inverse(self, t: datetime) -> float:
        """Scenario second of wall-clock time ``t``."""
        real = (t - self.anchor).total_seconds()
        return real if real < 0 else real * self.speed


def cst(t: datetime) -> datetime:
    """``t`` in China Standard Time."""
    return t.astimezone(CST)


def iso_cst(t: datetime) -> str:
    """``2025-05-23T14:05:09+08:00``."""
    return cst(t).isoformat(timespec="seconds")


def plain_cst(t: datetime) -> str:
    """``2025-05-23 14:05:09`` (local time, no offset)."""
    return cst(t).strftime("%Y-%m-%d %H:%M:%S")


class ScenarioGenerator:
    """Builds a :class:`Scenario` from :class:`SimulatorOptions` and an anchor time."""

    def __init__(self, options: SimulatorOptions, anchor: datetime) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.clock = _Clock(anchor.astimezone(UTC).replace(microsecond=0), options.speed)
        self.backlog_s = int(options.backlog_days * 86400)
        self.names = employers.EmployerNames(self.rng)
        self.incidents: list[Incident] = []
        self.reports: list[_Report] = []
        self.report_incident: dict[str, str] = {}
        self.versions: list[RecordVersion] = []
        self.dead_letters: list[ExpectedDeadLetter] = []
        self.stations: list[Station] = []
        self.petition_rows: list[tuple[datetime, CsvRow, str]] = []  # (reg time, row, incident)
        self.seq: dict[str, int] = defaultdict(int)
        self.station_seq: dict[str, int] = defaultdict(int)
        self.placements: dict[str, str] = {}
        self.by_incident: dict[str, list[_Report]] = {}

    # ----------------------------------------------------------------- driver
    def build(self) -> Scenario:
        """Generate everything, in a fixed order (determinism depends on it)."""
        self._make_stations()
        for i in range(self.options.incidents):
            self._make_incident(f"I{i + 1:05d}")
        self._make_malformed()
        self.placements = {i.incident_id: i.placement for i in self.incidents}
        for report in self.reports:
            self._emit(report)
        batches = self._make_batches()
        self.versions.sort(key=lambda v: (v.at, v.channel.value, v.external_id, v.version))
        return Scenario(
            seed=self.options.seed,
            anchor=self.clock.anchor,
            live_start=self.clock.anchor,
            live_end=self.clock.at(LIVE_SPAN_S),
            incidents=self.incidents,
            versions=self.versions,
            batches=batches,
            stations=self.stations,
            dead_letters=self.dead_letters,
        )

    # --------------------------------------------------------------- stations
    def _make_stations(self) -> None:
        rng = self.rng
        total = self.options.stations
        slugs = [d.slug for d in DISTRICTS]
        # One district studio each, 12 work-injury studios, the rest in industrial parks.
        plan: list[tuple[str, str]] = [(s, "studio") for s in slugs]
        injury = [s for s in slugs if s != "shenshan"] + ["baoan", "longgang"]
        plan += [(s, "injury") for s in injury[:12]]
        weights = [DISTRICT_WEIGHTS[s] for s in slugs]
        while len(plan) < total:
            plan.append((rng.choices(slugs, weights)[0], "park"))
        plan = plan[:total]
        for slug, kind in plan:
            d = DISTRICT_BY_SLUG[slug]
            self.station_seq[slug] += 1
            sid = f"{STATION_PREFIX[slug]}-{self.station_seq[slug]:03d}"
            if kind == "studio":
                name = f"{d.name}总工会法律服务工作室"
            elif kind == "injury":
                name = f"{d.name}工伤服务工作室（社保{d.short}分局）"
            else:
                street = rng.choice(d.streets)
                name = f"{street}第{'一二三四五六七八九'[rng.randrange(9)]}工业区工会法律服务站"
            opens = closes = None
            roll = rng.random()
            if kind == "park" and roll < 0.03:
                opens = self.clock.at(rng.randrange(60, LIVE_SPAN_S // 2))
            elif kind == "park" and roll < 0.05:
                closes = self.clock.at(rng.randrange(60, LIVE_SPAN_S))
            self.stations.append(Station(sid, name, d.name, slug, opens, closes))

    # -------------------------------------------------------------- incidents
    def _start_s(self) -> int:
        if self.rng.random() < self.options.live_fraction:
            return self.rng.randrange(0, LIVE_SPAN_S - 600)
        return -self.rng.randrange(60, self.backlog_s)

    def _later(self, s: int, backlog_max: int, live_max: int = 900) -> int:
        """A time after ``s``: up to ``backlog_max`` s in the backlog, minutes when live."""
        if s < 0:
            return s + self.rng.randrange(60, backlog_max)
        return s + self.rng.randrange(30, live_max)

    def _report_s(self, s0: int, backlog_max: int, live_max: int = 900) -> int:
        """A follow-up report's time: after ``s0``, early enough for its first version."""
        return min(self._later(s0, backlog_max, live_max), LIVE_SPAN_S - 700)

    def _placement(self, *, allow_triage: bool = True) -> str:
        """A district slug (weighted by size), or now and then a triage reason."""
        roll = self.rng.random()
        if allow_triage and roll < 0.05:
            return "outside_jurisdiction"
        if allow_triage and roll < 0.09:
            return "unplaced"
        slugs = list(DISTRICT_WEIGHTS)
        return self.rng.choices(slugs, [DISTRICT_WEIGHTS[s] for s in slugs])[0]

    def _employer(self, placement: str) -> tuple[Employer, bool]:
        """An employer for ``placement``; the flag says its name is a place trap."""
        rng = self.rng
        core = self.names.core()
        slug = placement if placement in DISTRICT_WEIGHTS else None
        trap = False
        if slug == "nanshan" and rng.random() < 0.2:
            name, trap = f"龙岗{core}公司南山分公司", True
        elif slug is not None:
            name = employers.make_registered_name(core, rng, slug)
        else:
            name = f"深圳市{core}{rng.choice(employers.FORMS)}"
        if slug is not None:
            address = addresses.trap_address(slug, rng) if rng.random() < 0.25 else None
            address = address or addresses.make_address(slug, rng)
        elif placement == "outside_jurisdiction":
            address = rng.choice(addresses.OUTSIDE_ADDRESSES)
        else:
            address = None
        return Employer(name, employers.make_employer_uscc(rng, slug), address, slug), trap

    def _channel(self, allow_legal: bool) -> Channel:
        choices = [(c, w) for c, w in CHANNEL_WEIGHTS if allow_legal or c != Channel.LEGAL_STATIONS]
        return self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]

    def _make_incident(self, incident_id: str) -> None:
        rng = self.rng
        roll = rng.random()
        kind = "single"
        if roll < 0.07:
            kind = "collective"
        elif roll < 0.12:
            kind = "mass"
        elif roll < 0.17:
            kind = "consultation"
        category = rng.choice(texts.CATEGORIES)
        if kind == "consultation":
            self._consultation(incident_id)
            return
        placement = self._placement(allow_triage=kind != "collective")
        employer, trap = self._employer(placement)
        incident = Incident(incident_id, kind, category, placement, employer)
        s0 = self._start_s()
        if kind == "collective":
            incident.group_dispute = True
            persons = [people.make_person(rng) for _ in range(rng.randrange(5, 9))]
            for person in persons:
                s = self._report_s(s0, 5 * 86400, 1800) if person is not persons[0] else s0
                channel = self._channel(True)
                self._add_report(incident, channel, s, person, trap, allow_no_identity=False)
        else:
            person = people.make_person(rng)
            n = rng.choices((1, 2, 3, 4), (55, 25, 15, 5))[0]
            mass_at = rng.randrange(n) if kind == "mass" else -1
            allow_legal = placement != "unplaced"
            for i in range(n):
                s = s0 if i == 0 else self._report_s(s0, 3 * 86400)
                channel = self._channel(allow_legal)
                if i == mass_at and channel == Channel.HOTLINE_12351:
                    channel = Channel.CITIZEN_APP
                self._add_report(
                    incident, channel, s, person, trap, allow_no_identity=n > 1,
                    mass=i == mass_at,
                )  # fmt: skip
            self._maybe_copy_text(incident)
        incident.case_groups = self._intended_groups(incident)
        self.incidents.append(incident)

    def _consultation(self, incident_id: str) -> None:
        """An (often anonymous) hotline call with no employer: a case of its own."""
        rng = self.rng
        person = people.make_person(rng)
        area_slug = rng.choice([d.slug for d in DISTRICTS] + [None, None])
        placement = area_slug or "unplaced"
        incident = Incident(incident_id, "consultation", "other", placement, None)
        anonymous = rng.random() < 0.5
        ident = _Identity(
            phone=(person.landline or person.mobile) if rng.random() < 0.3 else person.mobile,
            phone_key=None,
            id_number=None,
            id_key=None,
            name="" if anonymous else person.name,
        )
        key = f"{incident_id}-R1"
        report = _Report(
            key=key,
            channel=Channel.HOTLINE_12351,
            s=self._start_s(),
            person=person,
            ident=ident,
            employer_written=None,
            employer_uscc=None,
            employer_address=None,
            category_label="咨询",
            title="",
            content=rng.choice(texts.CONSULTATIONS),
            people_involved=1,
            loc={"area": f"深圳市{DISTRICT_BY_SLUG[area_slug].name}" if area_slug else "深圳市"},
        )
        self._register(incident, report)
        incident.case_groups = [[key]]
        self.incidents.append(incident)

    def _identity(self, channel: Channel, person: Person, allow_none: bool) -> _Identity:
        rng = self.rng
        use_phone = True
        use_id = (
            rng.random()
            < {
                Channel.CITIZEN_APP: 0.4,
                Channel.HOTLINE_12351: 0.25,
                Channel.PETITION_WINDOW: 0.7,
                Channel.PROVINCIAL_PETITION: 0.6,
                Channel.LEGAL_STATIONS: 0.5,
            }[channel]
        )
        name = person.name
        if channel in (Channel.PETITION_WINDOW, Channel.PROVINCIAL_PETITION):
            use_phone = rng.random() < 0.65
            if not use_phone and not use_id and not allow_none:
                use_id = True
        if channel == Channel.HOTLINE_12351 and rng.random() < 0.2:
            name, use_id = "", False  # anonymous caller: a phone, no name, no ID
        phone_raw = person.mobile
        if channel == Channel.HOTLINE_12351 and person.landline and rng.random() < 0.5:
            phone_raw = person.landline
        phone = None
        if use_phone:
            phone = phone_raw if "-" in phone_raw else people.phone_variant(rng, phone_raw)
        return _Identity(
            phone=phone,
            phone_key=phone_raw if use_phone else None,
            id_number=people.id_variant(rng, person.id_number) if use_id else None,
            id_key=person.id_number if use_id else None,
            name=name,
        )

    def _add_report(
        self,
        incident: Incident,
        channel: Channel,
        s: int,
        person: Person,
        trap: bool,
        *,
        allow_no_identity: bool,
        mass: bool = False,
    ) -> None:
        rng = self.rng
        emp = incident.employer
        if emp is None:
            raise ValueError("a report with an employer needs an incident with one")
        ident = self._identity(channel, person, allow_no_identity)
        category = incident.category
        if channel == Channel.HOTLINE_12351 and rng.random() < 0.15:
            category = "other"  # callers are often logged as a consultation first
        label = rng.choice(LABELS[channel][category])
        written = employers.name_variant(emp.name, rng)
        slug = emp.district
        where = ""
        if slug is not None and rng.random() < 0.35:
            d = DISTRICT_BY_SLUG[slug]
            place = rng.choice(d.places + d.streets)
            where = f"({place})" if rng.random() < 0.5 else f"在{place}的厂区"
        title, content = texts.complaint(rng, incident.category, written, where)
        n_people = 1
        if mass:
            n_people = rng.randrange(10, 80)
        elif incident.kind == "collective" and rng.random() < 0.2:
            n_people = rng.randrange(2, 6)
        report = _Report(
            key=f"{incident.incident_id}-R{len(incident.report_keys) + 1}",
            channel=channel,
            s=s,
            person=person,
            ident=ident,
            employer_written=written,
            employer_uscc=emp.uscc if rng.random() < 0.5 else None,
            employer_address=emp.address,
            category_label=label,
            title=title,
            content=content,
            people_involved=n_people,
        )
        report.loc = self._location(channel, incident.placement, emp, trap)
        self._register(incident, report)

    def _register(self, incident: Incident, report: _Report) -> None:
        incident.report_keys.append(report.key)
        self.by_incident.setdefault(incident.incident_id, []).append(report)
        self.reports.append(report)
        self.report_incident[report.key] = incident.incident_id

    def _location(
        self, channel: Channel, placement: str, emp: Employer, trap: bool
    ) -> dict[str, Any]:
        """Channel location fields consistent with ``placement`` (see module doc)."""
        rng = self.rng
        loc: dict[str, Any] = {"employer_address": True}
        if placement == "unplaced":
            loc["employer_address"] = False
            return loc | {"area": rng.choice(("深圳市", ""))}
        if placement == "outside_jurisdiction":
            city = next(
                c for c in addresses.OUTSIDE_AREAS if emp.address and emp.address.startswith(c)
            )
            if channel == Channel.CITIZEN_APP and rng.random() < 0.5:
                loc |= {"employer_address": False, "address": emp.address}
            elif channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
                loc |= {"area": city, "employer_address": rng.random() < 0.5}
            return loc
        d = DISTRICT_BY_SLUG[placement]
        # How strongly the record states its own location (rule 1).
        use_field = rng.random() < (0.9 if trap else 0.65)
        name_says = emp.name.startswith("深圳市" + d.name)
        loc["employer_address"] = trap or (not use_field and not name_says) or rng.random() < 0.6
        if channel == Channel.CITIZEN_APP:
            if use_field:
                loc |= self._citizen_location(d)
            elif rng.random() < 0.4:
                loc["address"] = addresses.make_address(d.slug, rng)
        elif channel == Channel.PETITION_WINDOW:
            loc["district"] = addresses.district_label(d.slug, rng) if use_field else ""
        elif channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
            loc["area"] = f"深圳市{d.name}" if use_field else "深圳市"
        return loc

    def _citizen_location(self, d: District) -> dict[str, Any]:
        rng = self.rng
        street = rng.choice(d.streets)
        street_name = street + d.street_suffix
        code = d.code or ("440307" if d.slug == "dapeng" else "441521")
        form = rng.randrange(4)
        if d.slug == "dapeng":
            # The trap: 大鹏 comes with 龙岗's code; a name or a street must say 大鹏.
            return {"code": "440307", "name": d.name if form < 2 else None, "street": street_name}
        if form == 0:
            return {"code": code, "name": d.name, "street": street_name}
        if form == 1:
            return {"code": code, "name": d.name}
        if form == 2:
            return {"code": None, "name": None, "street": street_name}
        return {"code": code}

    def _maybe_copy_text(self, incident: Incident) -> None:
        """Give a report without identity the text of a sibling, as when a clerk re-types it."""
        mine = self.by_incident[incident.incident_id]
        bare = [r for r in mine if r.ident.phone is None and r.ident.id_number is None]
        if not bare:
            return
        others = [r for r in mine if r not in bare]
        sources = [r for r in others if r.channel not in _NO_COPY]
        # Copy only where the others are one identity group already: a copied text then
        # cannot link two groups the generator means to keep apart.
        if not sources or len(_union_identities(others)) != 1:
            for r in bare:  # nothing to copy from: give it an ID number after all
                r.ident.id_number = r.person.id_number
                r.ident.id_key = r.person.id_number
            return
        for r in bare:
            r.title, r.content, r.text_from = "", sources[0].content, sources[0].key

    def _intended_groups(self, incident: Incident) -> list[list[str]]:
        """The generator's own partition: shared identity keys, plus copied texts."""
        mine = self.by_incident[incident.incident_id]
        groups = _union_identities([r for r in mine if r.text_from is None])
        by_key = {k: g for g in groups for k in g}
        for r in mine:
            if r.text_from is not None:
                by_key[r.text_from].append(r.key)
        return [sorted(g) for g in groups]

    # -------------------------------------------------------------- malformed
    def _make_malformed(self) -> None:
        """Records that must become dead letters, outside any incident."""
        n = max(1, self.options.incidents // 100)
        for i in range(n):
            for kind in ("csv_bad_encoding", "csv_wrong_cell_count", "csv_impossible_date"):
                self._malformed_row(kind, i)
            self._malformed_appeal(i)
        for i in range(max(1, self.options.incidents // 150)):
            self._malformed_petition(i)
            self._malformed_case(i)

    def _next(self, prefix: str) -> int:
        self.seq[prefix] += 1
        return self.seq[prefix]

    def _malformed_row(self, kind: str, i: int) -> None:
        s = -self.rng.randrange(7200, self.backlog_s) if i % 2 == 0 else self._start_s()
        t = self.clock.at(s)
        reg_no = f"XF{cst(t):%Y%m%d}-{self._next('XF'):05d}"
        person = people.make_person(self.rng)
        cells = [
            reg_no, cst(t).strftime("%Y/%m/%d %H:%M"), person.name, person.mobile, "",
            "深圳市某某制衣厂", "", "", "拖欠工资", "老板欠薪三个月", "1", "刘晓",
        ]  # fmt: skip
        row = CsvRow(reg_no, cells, malformed=kind)
        if kind == "csv_wrong_cell_count":
            row.cells = [*cells[:9], "老板欠薪", "三个月", "1", "刘晓"]
        elif kind == "csv_impossible_date":
            row.cells[1] = f"{cst(t):%Y}/02/30 25:61"
        else:
            good = _encode_row(cells)
            row.raw_bytes = good.replace("老板".encode("gbk"), b"\xff\xfe\xff", 1)
        self.petition_rows.append((t, row, "malformed"))
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.PETITION_WINDOW.value, reg_no, kind, f"{cst(t):%Y%m%d-%H}")
        )

    def _malformed_appeal(self, i: int) -> None:
        s = self._start_s()
        t = self.clock.at(s)
        appeal_id = f"MY{cst(t):%Y%m%d}{self._next('MY'):07d}"
        record: dict[str, Any] = {
            "appeal_id": appeal_id,
            "version": "v二",
            "submitted_at": iso_cst(t),
            "updated_at": iso_cst(t),
            "source": "网页",
            "title": "？？？",
            "content": "测试测试",
            "category_code": "LAB-???",
            "appellant": None,
            "subject": None,
            "location": None,
            "people_involved": "若干",
            "attachments": [],
            "status": "submitted",
        }
        self.versions.append(
            RecordVersion(Channel.CITIZEN_APP, appeal_id, "?", t, t, record, "malformed",
                          "malformed", malformed="invalid_version")
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.CITIZEN_APP.value, appeal_id, "invalid_version", "feed")
        )

    def _malformed_petition(self, i: int) -> None:
        s = -self.rng.randrange(3 * 3600, self.backlog_s)
        t = self.clock.at(s)
        xfjbh = f"440300{cst(t):%Y%m%d}{self._next('XFJ'):06d}"
        record = {
            "XFJBH": xfjbh, "BBH": "贰", "DJSJ": cst(t).strftime("%Y-%m-%dT%H:%M:%S"),
            "XFXS": "来信", "XFR": {"XM": "", "ZJHM": "", "LXDH": ""},
            "BFYDW": {"DWMC": "", "TYSHXYDM": "", "DWDZ": ""}, "WTSD": "深圳市",
            "NRFL": "劳动社保-其他", "RS": "1", "XFMD": "内容缺失",
        }  # fmt: skip
        self.versions.append(
            RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "?", t, t, record, "malformed",
                          "malformed", malformed="invalid_version")
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.PROVINCIAL_PETITION.value, xfjbh, "invalid_version", "xml")
        )

    def _malformed_case(self, i: int) -> None:
        s = -self.rng.randrange(3600, self.backlog_s)
        t = self.clock.at(s)
        station = self._station_for(None, t)
        case_id = self._case_id(station, t)
        record = {
            "case_id": case_id,
            "opened_at": iso_cst(t),
            "updated_at": f"{cst(t):%Y}-13-45T99:00:00+08:00",
            "client": {"name": "", "phone": "", "id_number": None},
            "employer": {"name": None, "credit_code": None, "address": None},
            "matter": "劳动争议咨询",
            "summary": "",
            "stage": "咨询",
            "amount_claimed_cny": None,
            "workers": 1,
            "lawyer": None,
        }
        self.versions.append(
            RecordVersion(Channel.LEGAL_STATIONS, case_id, "?", t, t + timedelta(seconds=1),
                          record, "malformed", "malformed", malformed="invalid_timestamp",
                          station_id=station.station_id)
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(
                Channel.LEGAL_STATIONS.value, case_id, "invalid_timestamp", station.station_id
            )
        )

    # ------------------------------------------------------------ emit records
    def _emit(self, r: _Report) -> None:
        incident = self.report_incident[r.key]
        {
            Channel.CITIZEN_APP: self._emit_appeal,
            Channel.PETITION_WINDOW: self._emit_row,
            Channel.HOTLINE_12351: self._emit_order,
            Channel.PROVINCIAL_PETITION: self._emit_petition,
            Channel.LEGAL_STATIONS: self._emit_case,
        }[r.channel](r, incident)

    def _live_ok(self, s: int) -> bool:
        return s < LIVE_SPAN_S

    def _progression(
        self, s: int, steps: tuple[str, ...], stop_p: float, backlog_gap_s: int
    ) -> Iterator[tuple[int, str, datetime]]:
        """(index, step, time) of a record's successive statuses, at strictly rising seconds.

        Each step after the first happens with probability ``1 - stop_p``, later by
        up to ``backlog_gap_s`` (minutes when live), and only while the scenario lasts.
        """
        last: datetime | None = None
        for i, step in enumerate(steps):
            if i > 0:
                if self.rng.random() < stop_p:
                    return
                s = self._later(s, backlog_gap_s)
                if not self._live_ok(s):
                    return
            t = self.clock.at(s)
            if last is not None and t <= last:
                t = last + timedelta(seconds=1)
            last = t
            yield i, step, t

    def _emit_appeal(self, r: _Report, incident: str) -> None:
        rng = self.rng
        t0 = self.clock.at(r.s)
        appeal_id = f"MY{cst(t0):%Y%m%d}{self._next('MY'):07d}"
        loc = r.loc
        employer_addr = r.employer_address if loc.get("employer_address") else None
        base = {
            "appeal_id": appeal_id,
            "version": 1,
            "submitted_at": iso_cst(t0),
            "updated_at": iso_cst(t0),
            "source": rng.choice(("i深圳APP", "微信小程序", "网页")),
            "title": r.title or r.content[:12],
            "content": r.content,
            "category_code": r.category_label,
            "appellant": {"name": r.ident.name, "mobile": r.ident.phone,
                          "id_no": r.ident.id_number},
            "subject": {"org_name": r.employer_written, "uscc": r.employer_uscc,
                        "address": employer_addr},
            "location": {
                "district_code": loc.get("code"),
                "district_name": loc.get("name"),
                "street_name": loc.get("street"),
                "address": loc.get("address"),
                "lng": round(113.8 + rng.random() * 0.5, 5) if loc.get("code") else None,
                "lat": round(22.5 + rng.random() * 0.2, 5) if loc.get("code") else None,
            },
            "people_involved": r.people_involved,
            "attachments": [{"name": "工资条.jpg", "url": f"https://files.example.cn/{appeal_id}/1.jpg"}]
            if rng.random() < 0.3 else [],
            "status": "submitted",
        }  # fmt: skip
        s = r.s
        for version, status in enumerate(("submitted", "accepted", "transferred", "closed"), 1):
            if version > 1:
                if rng.random() < 0.35:
                    break
                s = self._later(s, 86400)
                if not self._live_ok(s):
                    break
            t = self.clock.at(s)
            record = base | {"version": version, "updated_at": iso_cst(t), "status": status}
            self.versions.append(
                RecordVersion(Channel.CITIZEN_APP, appeal_id, str(version), t, t, record,
                              incident, r.key)
            )  # fmt: skip

    def _emit_row(self, r: _Report, incident: str) -> None:
        rng = self.rng
        t = self.clock.at(r.s)
        reg_no = f"XF{cst(t):%Y%m%d}-{self._next('XF'):05d}"
        content = r.content
        if r.text_from is None:
            content = texts.with_csv_hazards(rng, content, r.person.mobile)
        cells = [
            reg_no,
            cst(t).strftime("%Y/%m/%d %H:%M"),
            r.ident.name,
            r.ident.phone or "",
            r.ident.id_number or "",
            r.employer_written or "",
            (r.employer_address or "") if r.loc.get("employer_address") else "",
            r.loc.get("district", ""),
            r.category_label,
            content,
            str(r.people_involved),
            rng.choice(CLERKS),
        ]
        self.petition_rows.append((t, CsvRow(reg_no, cells), incident + "|" + r.key))

    def _emit_order(self, r: _Report, incident: str) -> None:
        rng = self.rng
        t_call = self.clock.at(r.s)
        order_no = f"GD12351-{cst(t_call):%Y%m%d}-{self._next('GD'):06d}"
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        base = {
            "order_no": order_no,
            "call_time": plain_cst(t_call),
            "update_time": "",
            "caller_name": r.ident.name,
            "caller_phone": r.ident.phone or r.person.mobile,
            "caller_id_card": r.ident.id_number or "",
            "company_name": r.employer_written or "",
            "company_address": emp_addr or "",
            "area": r.loc.get("area", ""),
            "order_type": r.category_label,
            "content": r.content,
            "status": "待派单",
            "handle_result": "",
            "satisfaction": "",
        }
        steps = ("待派单", "已派单", "处理中", "已办结")
        for _, status, t in self._progression(r.s + rng.randrange(20, 600), steps, 0.3, 2 * 86400):
            record = base | {"update_time": plain_cst(t), "status": status}
            if status == "已办结":
                result = "已协调企业支付，工人确认" if rng.random() < 0.6 else "已告知仲裁途径"
                satisfaction = rng.choice(("满意", "基本满意", "不满意", ""))
                record |= {"handle_result": result, "satisfaction": satisfaction}
            self.versions.append(
                RecordVersion(Channel.HOTLINE_12351, order_no, plain_cst(t), t, t, record,
                              incident, r.key)
            )  # fmt: skip

    def _emit_petition(self, r: _Report, incident: str) -> None:
        rng = self.rng
        t = self.clock.at(r.s)
        xfjbh = f"440300{cst(t):%Y%m%d}{self._next('XFJ'):06d}"
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        # Counties sync late: half within minutes, some within the hour, some nearly 2 h.
        roll = rng.random()
        if roll < 0.5:
            delay = rng.randrange(0, 300)
        elif roll < 0.85:
            delay = rng.randrange(300, 3600)
        else:
            delay = rng.randrange(3600, 6900)
        name = r.ident.name
        typo = rng.random() < 0.2 and len(name) >= 2
        record: dict[str, Any] = {
            "XFJBH": xfjbh,
            "BBH": "1",
            "DJSJ": cst(t).strftime("%Y-%m-%dT%H:%M:%S"),
            "XFXS": rng.choice(("来信", "来访", "网上信访")),
            "XFR": {
                "XM": (name[0] + "某" + name[2:]) if typo else name,
                "ZJHM": r.ident.id_number or "",
                "LXDH": r.ident.phone or "",
            },
            "BFYDW": {
                "DWMC": r.employer_written or "",
                "TYSHXYDM": r.employer_uscc or "",
                "DWDZ": emp_addr or "",
            },
            "WTSD": r.loc.get("area") or "深圳市",
            "NRFL": r.category_label,
            "RS": str(r.people_involved),
            "XFMD": r.content,
        }
        v1 = t + timedelta(seconds=delay)
        self.versions.append(
            RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "1", t, v1, record, incident, r.key)
        )
        if typo:  # corrected within the two hours: the name typo is fixed
            v2 = t + timedelta(seconds=rng.randrange(delay + 60, 7140))
            fixed = record | {"BBH": "2", "XFR": {**record["XFR"], "XM": name}}
            self.versions.append(
                RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "2", t, v2, fixed, incident,
                              r.key)
            )  # fmt: skip

    def _station_for(self, slug: str | None, t: datetime) -> Station:
        ok = [
            st
            for st in self.stations
            if st.closes_at is None
            and (st.opens_at is None or st.opens_at <= t)
            and (slug is None or st.slug == slug)
        ]
        return self.rng.choice(ok or [st for st in self.stations if st.closes_at is None])

    def _case_id(self, station: Station, t: datetime) -> str:
        return f"{station.station_id}-{cst(t):%Y}-{self._next(station.station_id):04d}"

    def _emit_case(self, r: _Report, incident_id: str) -> None:
        rng = self.rng
        t0 = self.clock.at(r.s)
        placement = self.placements[incident_id]
        station = self._station_for(placement if placement in DISTRICT_WEIGHTS else None, t0)
        case_id = self._case_id(station, t0)
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        base = {
            "case_id": case_id,
            "opened_at": iso_cst(t0),
            "updated_at": "",
            "client": {"name": r.ident.name, "phone": r.ident.phone or r.person.mobile,
                       "id_number": r.ident.id_number},
            "employer": {"name": r.employer_written, "credit_code": r.employer_uscc,
                         "address": emp_addr},
            "matter": r.category_label,
            "summary": r.content,
            "stage": "咨询",
            "amount_claimed_cny": rng.randrange(5, 400) * 1000 if rng.random() < 0.6 else None,
            "workers": r.people_involved,
            "lawyer": None,
        }  # fmt: skip
        for i, stage, t in self._progression(
            r.s, ("咨询", "调解", "仲裁", "结案"), 0.35, 3 * 86400
        ):
            record = base | {
                "updated_at": iso_cst(t),
                "stage": stage,
                "lawyer": rng.choice(people.LAWYERS) if i > 0 else None,
            }
            self.versions.append(
                RecordVersion(Channel.LEGAL_STATIONS, case_id, iso_cst(t), t,
                              t + timedelta(seconds=1), record, incident_id, r.key,
                              station_id=station.station_id)
            )  # fmt: skip

    # ---------------------------------------------------------------- batches
    def _make_batches(self) -> list[Batch]:
        """Group petition rows into hourly exports; some batches get a corrected revision.

        The last export published before the start is always corrected during the
        live part (when it has three good rows), so every run shows a correction
        arriving while connectors watch.
        """
        rng = self.rng
        by_hour: dict[str, list[tuple[datetime, CsvRow, str]]] = defaultdict(list)
        for t, row, owner in sorted(self.petition_rows, key=lambda x: (x[0], x[1].registration_no)):
            by_hour[f"{cst(t):%Y%m%d-%H}"].append((t, row, owner))
        batches: list[Batch] = []
        owners: dict[str, str] = {}
        for batch_id in sorted(by_hour):
            entries = by_hour[batch_id]
            owners |= {row.registration_no: owner for _, row, owner in entries}
            hour_start = datetime.strptime(batch_id, "%Y%m%d-%H").replace(tzinfo=CST)
            created = (hour_start + timedelta(hours=1, seconds=2)).astimezone(UTC)
            batch = Batch(
                batch_id, [BatchRevision(1, created, created, [r for _, r, _ in entries])]
            )
            if rng.random() < 0.2:
                s_created = self.clock.inverse(created)
                delay = rng.randrange(60, 900) if s_created >= 0 else rng.randrange(1200, 6 * 3600)
                self._correct(batch, self.clock.at(s_created + delay))
            batches.append(batch)
        published = [
            b
            for b in batches
            if b.revisions[0].visible_at <= self.clock.anchor
            and len(b.revisions) == 1
            and sum(r.malformed is None for r in b.revisions[0].rows) >= 3
        ]
        if published:
            self._correct(published[-1], self.clock.at(rng.randrange(60, LIVE_SPAN_S // 2)))
        for batch in batches:
            self._row_versions(batch.batch_id, batch.revisions, owners)
        return batches

    def _correct(self, batch: Batch, at: datetime) -> None:
        """Add revision 2 to ``batch``: a clerk corrects one or two rows (the receptionist)."""
        rng = self.rng
        rows = batch.revisions[0].rows
        good = [i for i, row in enumerate(rows) if row.malformed is None]
        if not good:
            return
        new_rows = [
            CsvRow(r.registration_no, list(r.cells), r.malformed, r.raw_bytes) for r in rows
        ]
        for i in rng.sample(good, k=min(len(good), rng.randrange(1, 3))):
            cells = new_rows[i].cells
            cells[11] = rng.choice([c for c in CLERKS if c != cells[11]])
        batch.revisions.append(BatchRevision(2, at, at, new_rows))

    def _row_versions(
        self, batch_id: str, revisions: list[BatchRevision], owners: dict[str, str]
    ) -> None:
        seen: set[tuple[str, ...]] = set()
        for rev in revisions:
            for row in rev.rows:
                content = tuple(row.cells)
                if row.malformed is not None or content in seen:
                    continue
                seen.add(content)
                owner = owners[row.registration_no]
                incident, _, report_key = owner.partition("|")
                t = datetime.strptime(row.cells[1], "%Y/%m/%d %H:%M").replace(tzinfo=CST)
                self.versions.append(
                    RecordVersion(
                        Channel.PETITION_WINDOW,
                        row.registration_no,
                        f"{batch_id}#{rev.revision}",
                        t.astimezone(UTC),
                        rev.visible_at,
                        dict(zip(CSV_HEADER, row.cells, strict=True)),
                        incident,
                        report_key,
                    )
                )


# Channels whose text a copy would not reproduce exactly (title + content; clerk additions).
_NO_COPY = (Channel.CITIZEN_APP, Channel.PETITION_WINDOW)


def _union_identities(reports: list[_Report]) -> list[list[str]]:
    """Reports grouped by shared identity (the generator's own person keys)."""
    parent = {r.key: r.key for r in reports}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    owner: dict[str, str] = {}
    for r in reports:
        for ident in (r.ident.phone_key, r.ident.id_key):
            if ident is None:
                continue
            if ident in owner:
                parent[find(r.key)] = find(owner[ident])
            else:
                owner[ident] = r.key
    groups: dict[str, list[str]] = defaultdict(list)
    for r in reports:
        groups[find(r.key)].append(r.key)
    return list(groups.values())


def _encode_row(cells: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue().encode("gbk")


def encode_csv(rows: list[CsvRow]) -> bytes:
    """The GBK bytes of an export: header row, then every row (CRLF, RFC 4180 quoting)."""
    parts = [_encode_row(CSV_HEADER)]
    parts += [
        row.raw_bytes if row.raw_bytes is not None else _encode_row(row.cells) for row in rows
    ]
    return b"".join(parts)


def generate(options: SimulatorOptions, anchor: datetime) -> Scenario:
    """The scenario for ``options``; same options and anchor give the same scenario."""
    return ScenarioGenerator(options, anchor).build()
