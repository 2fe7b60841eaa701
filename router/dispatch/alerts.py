"""Raises and updates risk alerts from new reports (their first versions).

- ``group_dispute``: reports of at least :data:`GROUP_MIN_PERSONS` distinct
  persons (linked by ID number or phone, as in dedupe) against one employer,
  all within 7 days of the earliest of them;
- ``mass_report``: one report with ``people_involved`` >= :data:`MASS_MIN_PEOPLE`.

A ``mass_report`` is open for report times in the 7 days after the report that
raised it; a ``group_dispute`` for those within 7 days of it either way (the
reports before it made its count, and may arrive late). While open, every
further report against the same employer joins it (same ``alert_id``, re-published) instead of
raising another of the same kind; a new ``mass_report`` also takes in the reports
already seen whose report time falls in the 7 days after its own, so that the
order in which channels deliver does not change it. A mass report without an employer is an
alert of its own. Times are report times; only ``raised_at`` is the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from core.ids import digest_id
from router.dispatch.state.codec import ALERT_WINDOW, AlertState, Member, member, to_us
from router.dispatch.state.keys import ALERT_PREFIX, report_key
from router.dispatch.state.store import DispatchStore, HistoryRow
from schemas.alert import AlertKind
from schemas.complaint import NormalizedReport

GROUP_MIN_PERSONS = 5
MASS_MIN_PEOPLE = 10
_WINDOW_US = ALERT_WINDOW // timedelta(microseconds=1)
_SLACK_US = 1_000_000

__all__ = ["AlertTracker", "alert_id_for", "count_persons"]


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
    """Keeps alerts in a :class:`DispatchStore`; returns the alerts to (re)publish.

    The per-employer report history is the store's ``history`` index, derived
    from the dedupe engine's report records: a report must be in the store
    (observed by the engine) before the tracker observes it.
    """

    def __init__(self, store: DispatchStore | None = None) -> None:
        self._store = store if store is not None else DispatchStore()

    # --- state lifecycle -----------------------------------------------------

    def reset(self) -> None:
        """Forget everything (before a full restore)."""
        self._store.clear()

    def owns(self, key: str) -> bool:
        """Whether a changelog key belongs to the tracker."""
        return key.startswith(ALERT_PREFIX)

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record of the tracker."""
        self._store.restore(key, value)

    def take_changes(self) -> list[tuple[str, bytes | None]]:
        """Changelog writes since the last call, and forget them."""
        return self._store.take()

    def discard_changes(self) -> None:
        """Forget writes not committed yet."""
        self._store.discard()

    def alert(self, alert_id: str) -> AlertState | None:
        """An alert by id, as of now."""
        value = self._store.get(ALERT_PREFIX + alert_id)
        return AlertState.decode(alert_id, value) if value is not None else None

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
        at = to_us(report.reported_at)
        open_kinds: set[AlertKind] = set()
        for alert_id in self._store.alerts_of(employer_key, at - _WINDOW_US, at + _WINDOW_US):
            alert = self.alert(alert_id)
            if alert is None:
                continue
            if alert.kind is AlertKind.MASS_REPORT and report.reported_at < alert.raised_report_at:
                # Open for the 7 days AFTER the report that raised it (dispatch.md); a group
                # dispute's window holds the earlier reports that made its count.
                continue
            open_kinds.add(alert.kind)
            if all(m.report_key != key for m in alert.members):
                alert.members.append(member)
                self._store.put(alert.key, alert.encode())
                changed.append(alert)
        if report.people_involved >= MASS_MIN_PEOPLE and AlertKind.MASS_REPORT not in open_kinds:
            members = [member, *self._seen_while_open(employer_key, key, at)]
            changed.append(
                self._raise(AlertKind.MASS_REPORT, employer_key, report, members, district, now)
            )
        if report.person_tokens and AlertKind.GROUP_DISPUTE not in open_kinds:
            group = self._group_around(employer_key, at)
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
        self._store.put(alert.key, alert.encode(), new=True)
        return alert

    def _seen_while_open(self, employer_key: str, raised_by: str, at: int) -> list[Member]:
        """Reports already seen against the employer whose report time falls in the new
        alert's open window: they join it as if they had arrived after it was raised, so
        the alert does not depend on the order in which channels delivered them."""
        return [
            member(key, t, persons, people)
            for t, _, key, persons, people in self._store.history(employer_key, at, at + _WINDOW_US)
            if key != raised_by
        ]

    def _group_around(self, employer_key: str, at: int) -> list[Member] | None:
        """The earliest 7-day window holding ``at`` and >= 5 distinct persons, if any."""
        around = self._store.history(
            employer_key, at - _WINDOW_US - _SLACK_US, at + _WINDOW_US + _SLACK_US
        )
        nearby: list[HistoryRow] = [row for row in around if row[3]]  # persons only
        if count_persons(r[3] for r in nearby) < GROUP_MIN_PERSONS:
            return None  # cheap exit: too few persons around at all
        for start, *_ in nearby:
            if start > at:
                break
            if at - start > _WINDOW_US:
                continue
            window = [r for r in nearby if start <= r[0] <= start + _WINDOW_US]
            if count_persons(r[3] for r in window) >= GROUP_MIN_PERSONS:
                return [member(key, t, persons, people) for t, _, key, persons, people in window]
        return None
