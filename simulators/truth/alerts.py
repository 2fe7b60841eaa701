"""Risk alerts of dispatch.md, replayed in report-time order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.truth.reports import Report

WINDOW = timedelta(days=7)
GROUP_PERSONS = 5
MASS_PEOPLE = 10


@dataclass(frozen=True)
class AlertTruth:
    """One alert a correct router raises.

    ``trigger`` are the reports that raised it (they must be in it);
    ``members`` every report that joins it while it is open (in report-time
    order; a router seeing reports in another order may differ at the edges).
    """

    kind: str
    employer_key: str | None
    trigger: tuple[tuple[str, str], ...]
    members: tuple[tuple[str, str], ...]
    persons: int
    raised_at: datetime
    open_until: datetime


def _employer_groups(reports: list[Report]) -> dict[str, list[Report]]:
    """Reports per employer: names and credit codes that co-occur are one employer."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in reports:
        keys = [
            k for k in (r.employer_name and "n:" + r.employer_name, r.uscc and "c:" + r.uscc) if k
        ]
        for k in keys[1:]:
            parent[find(k)] = find(keys[0])
    groups: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        key = ("n:" + r.employer_name) if r.employer_name else ("c:" + r.uscc if r.uscc else None)
        if key is not None:
            groups[find(key)].append(r)
    return groups


def _person_count(reports: list[Report]) -> int:
    """Distinct persons: identity keys linked through reports that carry both."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        parent.setdefault(k, k)
        while parent[k] != k:
            k = parent[k]
        return k

    for r in reports:
        for k in r.persons[1:]:
            parent[find(k)] = find(r.persons[0])
    return len({find(r.persons[0]) for r in reports if r.persons})


def _name(group: list[Report]) -> str | None:
    names = sorted({r.employer_name for r in group if r.employer_name})
    return names[0] if names else None


def compute_alerts(reports: list[Report]) -> list[AlertTruth]:
    """group_dispute and mass_report alerts, in report-time order."""
    alerts: list[AlertTruth] = []
    for group in _employer_groups(reports).values():
        ordered = sorted(group, key=lambda r: (r.reported_at, r.ref))
        alerts += _group_disputes(ordered)
        alerts += _mass_reports(ordered, _name(ordered))
    for r in sorted(reports, key=lambda r: (r.reported_at, r.ref)):
        if not r.has_employer and r.people_involved >= MASS_PEOPLE:
            alerts.append(
                AlertTruth("mass_report", None, (r.ref,), (r.ref,), 1, r.reported_at,
                           r.reported_at + WINDOW)
            )  # fmt: skip
    return sorted(alerts, key=lambda a: (a.raised_at, a.kind, a.trigger))


@dataclass
class _Open:
    """An alert being built while it is open."""

    trigger: tuple[tuple[str, str], ...]
    members: list[tuple[str, str]]
    persons: int
    raised_at: datetime

    @property
    def until(self) -> datetime:
        return self.raised_at + WINDOW

    def close(self, kind: str, name: str | None) -> AlertTruth:
        return AlertTruth(
            kind, name, self.trigger, tuple(self.members), self.persons, self.raised_at, self.until
        )


def _group_disputes(ordered: list[Report]) -> list[AlertTruth]:
    out: list[AlertTruth] = []
    name = _name(ordered)
    current: _Open | None = None
    for i, r in enumerate(ordered):
        if current is not None and r.reported_at <= current.until:
            current.members.append(r.ref)
            continue
        if current is not None:
            out.append(current.close("group_dispute", name))
            current = None
        recent = [
            x for x in ordered[: i + 1] if x.persons and r.reported_at - x.reported_at <= WINDOW
        ]
        count = _person_count(recent)
        if count >= GROUP_PERSONS:
            refs = tuple(x.ref for x in recent)
            current = _Open(refs, list(refs), count, r.reported_at)
    if current is not None:
        out.append(current.close("group_dispute", name))
    return out


def _mass_reports(ordered: list[Report], name: str | None) -> list[AlertTruth]:
    out: list[AlertTruth] = []
    current: _Open | None = None
    for r in ordered:
        if current is not None and r.reported_at <= current.until:
            current.members.append(r.ref)
            continue
        if current is not None:
            out.append(current.close("mass_report", name))
            current = None
        if r.people_involved >= MASS_PEOPLE:
            current = _Open((r.ref,), [r.ref], 1 if r.persons else 0, r.reported_at)
    if current is not None:
        out.append(current.close("mass_report", name))
    return out
