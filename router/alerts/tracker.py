"""Raises and updates risk alerts from new reports (their first versions).

- ``group_dispute``: reports of at least :data:`GROUP_MIN_PERSONS` distinct
  persons (linked by ID number or phone, as in dedupe) against one employer,
  all within 7 days of the earliest of them;
- ``mass_report``: one report with ``people_involved`` >= :data:`MASS_MIN_PEOPLE`.

An alert is open for report times within 7 days of the report that raised it
(both ways, since reports may arrive late). While open, every further report
against the same employer joins it (same ``alert_id``, re-published) instead of
raising another of the same kind. A mass report without an employer is an
alert of its own. Times are report times; only ``raised_at`` is the wall clock.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from router.dedupe.state import report_key
from router.normalize.ids import digest_id
from schemas.alert import AlertKind
from schemas.complaint import Employer, NormalizedReport

ALERT_PREFIX = "a/"
GROUP_MIN_PERSONS = 5
MASS_MIN_PEOPLE = 10
ALERT_WINDOW = timedelta(days=7)


class Member(BaseModel):
    """A report concerned by an alert."""

    model_config = ConfigDict(frozen=True)

    report_key: str
    reported_at: AwareDatetime
    person_tokens: list[str]
    people_involved: int


class AlertState(BaseModel):
    """An alert as kept in the changelog (``a/<alert_id>``)."""

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

    def covers(self, at: datetime) -> bool:
        """Whether a report at ``at`` falls while this alert is open."""
        return abs(at - self.raised_report_at) <= ALERT_WINDOW

    @property
    def open_until(self) -> datetime:
        """The last report time this alert takes in."""
        return self.raised_report_at + ALERT_WINDOW

    def persons(self) -> int:
        """Distinct persons among the members."""
        return count_persons(m.person_tokens for m in self.members)


def count_persons(token_lists: Iterable[list[str]]) -> int:
    """Distinct persons among reports, two being one person if they share a token."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    firsts = []
    for tokens in token_lists:
        if not tokens:
            continue
        firsts.append(tokens[0])
        root = find(tokens[0])
        for token in tokens[1:]:
            other = find(token)
            if other != root:
                parent[other] = root
    return len({find(t) for t in firsts})


def alert_id_for(kind: AlertKind, employer_key: str | None, raised_by: str) -> str:
    """Deterministic alert id from what raised it."""
    return "alert-" + digest_id("alert", kind, employer_key or "", raised_by)


class AlertTracker:
    """Keeps alerts and per-employer report history; returns the alerts to (re)publish."""

    def __init__(self) -> None:
        self._alerts: dict[str, AlertState] = {}
        self._open: dict[str, list[str]] = defaultdict(list)  # employer key -> alert ids
        self._history: dict[str, list[tuple[float, int, Member]]] = defaultdict(list)
        self._dirty: set[str] = set()
        self._stale_index = False

    # --- state lifecycle -----------------------------------------------------

    def reset(self) -> None:
        """Forget everything (before a full restore)."""
        self._alerts.clear()
        self._open.clear()
        self._history.clear()
        self._dirty.clear()
        self._stale_index = False

    def owns(self, key: str) -> bool:
        """Whether a changelog key belongs to the tracker."""
        return key.startswith(ALERT_PREFIX)

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record of the tracker."""
        alert_id = key[len(ALERT_PREFIX) :]
        if value is None:
            self._alerts.pop(alert_id, None)
        else:
            self._alerts[alert_id] = AlertState.model_validate_json(value)
        self._stale_index = True

    def rebuild(self, reports: Iterable[tuple[int, str, NormalizedReport]]) -> None:
        """Rebuild the indexes after a restore from (seq, report key, first version)."""
        self._open.clear()
        self._history.clear()
        for alert in sorted(self._alerts.values(), key=lambda a: (a.raised_report_at, a.alert_id)):
            if alert.employer_key is not None:
                self._open[alert.employer_key].append(alert.alert_id)
        for seq, key, report in reports:
            self._remember(seq, key, report)
        self._stale_index = False

    @property
    def needs_rebuild(self) -> bool:
        """True after a restore, until :meth:`rebuild`."""
        return self._stale_index

    def take_changes(self) -> list[tuple[str, bytes | None]]:
        """Changelog writes since the last call, and forget them."""
        changes: list[tuple[str, bytes | None]] = []
        for alert_id in sorted(self._dirty):
            alert = self._alerts.get(alert_id)
            changes.append(
                (f"{ALERT_PREFIX}{alert_id}", alert.model_dump_json().encode() if alert else None)
            )
        self._dirty.clear()
        return changes

    def discard_changes(self) -> None:
        """Forget pending changelog writes."""
        self._dirty.clear()

    @property
    def size(self) -> int:
        """Alerts held."""
        return len(self._alerts)

    # --- deciding --------------------------------------------------------------

    def observe(
        self, seq: int, key: str, report: NormalizedReport, district: str | None, now: datetime
    ) -> list[AlertState]:
        """Alerts raised or updated by a new report (first version), to publish."""
        member = Member(
            report_key=key,
            reported_at=report.reported_at,
            person_tokens=list(report.person_tokens),
            people_involved=report.people_involved,
        )
        changed: list[AlertState] = []
        employer_key = report.employer_match.key if report.employer_match else None
        if employer_key is None:
            if report.people_involved >= MASS_MIN_PEOPLE:
                changed.append(
                    self._raise(AlertKind.MASS_REPORT, None, report, [member], district, now)
                )
            return changed
        self._remember(seq, key, report)
        open_kinds: set[AlertKind] = set()
        for alert_id in self._open.get(employer_key, []):
            alert = self._alerts[alert_id]
            if not alert.covers(report.reported_at):
                continue
            open_kinds.add(alert.kind)
            if all(m.report_key != key for m in alert.members):
                alert.members.append(member)
                self._dirty.add(alert_id)
                changed.append(alert)
        if report.people_involved >= MASS_MIN_PEOPLE and AlertKind.MASS_REPORT not in open_kinds:
            changed.append(
                self._raise(AlertKind.MASS_REPORT, employer_key, report, [member], district, now)
            )
        if report.person_tokens and AlertKind.GROUP_DISPUTE not in open_kinds:
            group = self._group_around(employer_key, report)
            if group is not None:
                changed.append(
                    self._raise(AlertKind.GROUP_DISPUTE, employer_key, report, group, district, now)
                )
        return changed

    def _raise(
        self,
        kind: AlertKind,
        employer_key: str | None,
        report: NormalizedReport,
        members: list[Member],
        district: str | None,
        now: datetime,
    ) -> AlertState:
        raised_by = report_key(report.channel, report.external_id)
        alert = AlertState(
            alert_id=alert_id_for(kind, employer_key, raised_by),
            kind=kind,
            employer=report.employer,
            employer_key=employer_key,
            district=district,
            raised_by=raised_by,
            raised_report_at=report.reported_at,
            raised_at=now,
            members=members,
        )
        self._alerts[alert.alert_id] = alert
        if employer_key is not None:
            self._open[employer_key].append(alert.alert_id)
        self._dirty.add(alert.alert_id)
        return alert

    def _remember(self, seq: int, key: str, report: NormalizedReport) -> None:
        if report.employer_match is None or not report.person_tokens:
            return
        member = Member(
            report_key=key,
            reported_at=report.reported_at,
            person_tokens=list(report.person_tokens),
            people_involved=report.people_involved,
        )
        bisect.insort(
            self._history[report.employer_match.key],
            (report.reported_at.timestamp(), seq, member),
            key=lambda e: (e[0], e[1]),
        )

    def _group_around(self, employer_key: str, report: NormalizedReport) -> list[Member] | None:
        """The earliest 7-day window holding ``report`` and >= 5 distinct persons, if any."""
        history = self._history.get(employer_key, [])
        at = report.reported_at
        span = ALERT_WINDOW.total_seconds()
        lo = bisect.bisect_left(history, at.timestamp() - span - 1, key=lambda e: e[0])
        hi = bisect.bisect_right(history, at.timestamp() + span + 1, key=lambda e: e[0])
        nearby = [m for _, _, m in history[lo:hi]]
        if count_persons(m.person_tokens for m in nearby) < GROUP_MIN_PERSONS:
            return None  # cheap exit: too few persons around at all
        for start in nearby:
            if start.reported_at > at:
                break
            if at - start.reported_at > ALERT_WINDOW:
                continue
            window = [
                m
                for m in nearby
                if start.reported_at <= m.reported_at <= start.reported_at + ALERT_WINDOW
            ]
            if count_persons(m.person_tokens for m in window) >= GROUP_MIN_PERSONS:
                return window
        return None
