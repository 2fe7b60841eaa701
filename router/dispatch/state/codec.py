"""Compact changelog values of the dispatch stage: orjson of small dicts, no pydantic dumps.

A report (``r/<channel>/<external_id>``)::

    {"seq": 7, "case": "case-...", "versions": ["1", "2"], "latest": "<version_key>",
     "first": {"channel": ..., "external_id": ..., "version": ..., "category": ...,
               "at": <µs since epoch>, "persons": [<person token>, ...],
               "employer_match": [uscc, name] | null, "shingles": [...], "people": 3,
               "complainant": {...} | null, "employer": {...} | null, "location": {...}}}

A case (``c/<case_id>``)::

    {"seq": <dispatch_seq>, "placement": {...}, "sources": [[channel, external_id], ...]}

Times are integer microseconds since the epoch (UTC), so comparisons are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from router.dispatch.state.keys import ALERT_PREFIX
from schemas.alert import AlertKind
from schemas.channels import Channel
from schemas.complaint import (
    Category,
    Complainant,
    Employer,
    EmployerMatch,
    Location,
    NormalizedReport,
    Placement,
)
from schemas.dispatch import SourceRef

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# An alert is open for report times within this long of the report that raised it.
ALERT_WINDOW = timedelta(days=7)
_MICROSECOND = timedelta(microseconds=1)


def to_us(at: datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime."""
    return (at - EPOCH) // _MICROSECOND


def from_us(us: int) -> datetime:
    """The UTC datetime of :func:`to_us`."""
    return EPOCH + timedelta(microseconds=us)


def employer_match_key(uscc: str | None, name: str | None) -> str:
    """:attr:`EmployerMatch.key` from its two fields."""
    return f"name:{name}" if name else f"uscc:{uscc}"


class FirstVersion:
    """A report's first version as stored: the dedupe, alert and event fields only."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @classmethod
    def of(cls, report: NormalizedReport) -> FirstVersion:
        """The stored form of ``report`` (its text and routing fields dropped)."""
        match = report.employer_match
        return cls(
            {
                "channel": str(report.channel),
                "external_id": report.external_id,
                "version": report.version,
                "category": str(report.category),
                "at": to_us(report.reported_at),
                "persons": list(report.person_tokens),
                "employer_match": [match.uscc, match.name] if match is not None else None,
                "shingles": report.shingles,
                "people": report.people_involved,
                "complainant": report.complainant.model_dump() if report.complainant else None,
                "employer": report.employer.model_dump() if report.employer else None,
                "location": report.location.model_dump(),
            }
        )

    @property
    def channel(self) -> Channel:
        """Upstream channel."""
        return Channel(self.raw["channel"])

    @property
    def external_id(self) -> str:
        """Upstream id."""
        return str(self.raw["external_id"])

    @property
    def version(self) -> str:
        """The first version's label."""
        return str(self.raw["version"])

    @property
    def category(self) -> Category:
        """Canonical category of the first version."""
        return Category(self.raw["category"])

    @property
    def reported_at(self) -> datetime:
        """Report time of the first version (UTC)."""
        return from_us(self.raw["at"])

    @property
    def complainant(self) -> Complainant | None:
        """Masked complainant of the first version."""
        value = self.raw["complainant"]
        return Complainant.model_validate(value) if value is not None else None

    @property
    def employer(self) -> Employer | None:
        """Employer as first reported."""
        value = self.raw["employer"]
        return Employer.model_validate(value) if value is not None else None

    @property
    def location(self) -> Location:
        """Problem location of the first version."""
        return Location.model_validate(self.raw["location"])

    @property
    def employer_match(self) -> EmployerMatch | None:
        """Employer identity of the first version."""
        value = self.raw["employer_match"]
        return EmployerMatch(uscc=value[0], name=value[1]) if value is not None else None


@dataclass
class StoredReport:
    """A report seen by the router: its first version and the versions seen since."""

    seq: int
    case_id: str
    versions: list[str]
    latest_version_key: str
    first: FirstVersion

    @property
    def version(self) -> str:
        """The label of the first version."""
        return self.versions[0]

    def encode(self) -> bytes:
        """The changelog value."""
        return orjson.dumps(
            {
                "seq": self.seq,
                "case": self.case_id,
                "versions": self.versions,
                "latest": self.latest_version_key,
                "first": self.first.raw,
            }
        )

    @classmethod
    def decode(cls, value: bytes) -> StoredReport:
        """Inverse of :meth:`encode`."""
        raw = orjson.loads(value)
        return cls(
            raw["seq"], raw["case"], raw["versions"], raw["latest"], FirstVersion(raw["first"])
        )


@dataclass
class CaseState:
    """A case: where it was dispatched and which reports it holds."""

    case_id: str
    dispatch_seq: int
    placement: Placement
    sources: list[SourceRef]

    @property
    def key(self) -> str:
        """State key."""
        return f"c/{self.case_id}"

    def snapshot(self) -> CaseState:
        """A copy that later changes to this case do not reach (sources are appended to)."""
        return CaseState(self.case_id, self.dispatch_seq, self.placement, list(self.sources))

    def encode(self) -> bytes:
        """The changelog value."""
        return orjson.dumps(
            {
                "seq": self.dispatch_seq,
                "placement": self.placement.model_dump(mode="json"),
                "sources": [[str(s.channel), s.external_id] for s in self.sources],
            }
        )

    @classmethod
    def decode(cls, case_id: str, value: bytes) -> CaseState:
        """Inverse of :meth:`encode`."""
        raw = orjson.loads(value)
        return cls(
            case_id,
            raw["seq"],
            Placement.model_validate(raw["placement"]),
            [
                SourceRef.model_construct(channel=Channel(ch), external_id=ext)
                for ch, ext in raw["sources"]
            ],
        )


class Member(BaseModel):
    """A report concerned by an alert."""

    model_config = ConfigDict(frozen=True)

    report_key: str
    reported_at: AwareDatetime
    person_tokens: list[str]
    people_involved: int


class AlertState(BaseModel):
    """An alert as kept in the changelog (``a/<alert_id>``, see :meth:`encode`)."""

    model_config = ConfigDict(frozen=False)

    alert_id: str
    kind: AlertKind
    employer: Employer | None
    employer_key: str | None
    district: str | None = Field(description="District slug of the raising report's case.")
    raised_by: str = Field(description="State key of the report that raised it.")
    raised_report_at: AwareDatetime = Field(description="Report time of the raising report.")
    raised_at: AwareDatetime = Field(description="Wall clock when it was raised.")
    members: list[Member]

    @property
    def key(self) -> str:
        """State key."""
        return f"{ALERT_PREFIX}{self.alert_id}"

    @property
    def open_until(self) -> datetime:
        """The last report time this alert takes in."""
        return self.raised_report_at + ALERT_WINDOW

    def encode(self) -> bytes:
        """The changelog value: a compact dict, times in µs since the epoch."""
        return orjson.dumps(
            {
                "kind": str(self.kind),
                "employer": self.employer.model_dump() if self.employer else None,
                "employer_key": self.employer_key,
                "district": self.district,
                "raised_by": self.raised_by,
                "raised_report_at": to_us(self.raised_report_at),
                "raised_at": to_us(self.raised_at),
                "members": [
                    [m.report_key, to_us(m.reported_at), m.person_tokens, m.people_involved]
                    for m in self.members
                ],
            }
        )

    @classmethod
    def decode(cls, alert_id: str, value: bytes) -> AlertState:
        """Inverse of :meth:`encode`."""
        raw: dict[str, Any] = orjson.loads(value)
        employer = raw["employer"]
        return cls.model_construct(
            alert_id=alert_id,
            kind=AlertKind(raw["kind"]),
            employer=Employer.model_validate(employer) if employer is not None else None,
            employer_key=raw["employer_key"],
            district=raw["district"],
            raised_by=raw["raised_by"],
            raised_report_at=from_us(raw["raised_report_at"]),
            raised_at=from_us(raw["raised_at"]),
            members=[member(k, at, persons, people) for k, at, persons, people in raw["members"]],
        )


def member(key: str, at: int, persons: list[str], people: int) -> Member:
    """A member as decoded from its stored (µs) form."""
    return Member.model_construct(
        report_key=key, reported_at=from_us(at), person_tokens=persons, people_involved=people
    )
