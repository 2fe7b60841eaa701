"""The dedupe engine: reports in, case decisions out, state changes for the changelog.

Cases are the connected components of :func:`router.dedupe.matching.matches`
over the first versions of all reports seen: a new report is compared with
the reports the indexes propose (same person identity and employer token; or,
for the text rule, same employer token within 7 days), and joins, opens or
merges cases accordingly. Because every report is linked to every earlier
report it matches, the final partition does not depend on arrival order.

Everything is a function of the input order: case ids come from the opening
report's upstream id, and "earliest dispatched" is the opening report's
arrival number, so a replay after a crash decides the same.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from router.dedupe.matching import TEXT_WINDOW, employer_tokens, matches
from router.dedupe.state import (
    CASE_PREFIX,
    REPORT_PREFIX,
    CaseState,
    ReportState,
    report_key,
)
from router.normalize.ids import digest_id
from schemas.complaint import NormalizedReport
from schemas.dispatch import SourceRef

_SLACK = timedelta(seconds=1).total_seconds()


class OutcomeKind(StrEnum):
    """What the engine decided about one report version."""

    NEW_CASE = "new_case"
    DUPLICATE_REPORT = "duplicate_report"
    CASE_UPDATED = "case_updated"
    CASE_MERGED = "case_merged"
    REPEAT = "repeat"  # this version was seen already: nothing to emit
    STALE = "stale"  # an unseen version older than the newest seen


@dataclass(frozen=True)
class Outcome:
    """The decision about one report version, with what its event needs."""

    kind: OutcomeKind
    report: NormalizedReport  # the version at hand
    first: NormalizedReport  # the report's first version (dedupe and routing fields)
    report_key: str
    case: CaseState | None = None  # the (surviving) case, after the decision
    merged: tuple[CaseState, ...] = ()  # case_merged: the cases merged into ``case``
    seq: int = -1  # arrival number of the report's first version

    def dispatched_case(self) -> CaseState:
        """The case of an outcome that is dispatched (all kinds but REPEAT and STALE)."""
        if self.case is None:
            raise ValueError(f"a {self.kind} outcome has no case to dispatch")
        return self.case


def case_id_for(channel: str, external_id: str) -> str:
    """The deterministic id of a case opened by this report."""
    return "case-" + digest_id("case", channel, external_id)


@dataclass
class _Indexes:
    by_person_employer: dict[tuple[str, str], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # employer token -> sorted [(report time as epoch seconds, seq, report key)]
    by_employer_all: dict[str, list[tuple[float, int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_employer_anonymous: dict[str, list[tuple[float, int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


class DedupeEngine:
    """Keeps reports and cases, decides each report's case, records state changes."""

    def __init__(self) -> None:
        self._reports: dict[str, ReportState] = {}
        self._cases: dict[str, CaseState] = {}
        self._idx = _Indexes()
        self._next_seq = 0
        self._stale_indexes = False
        self._dirty: set[str] = set()

    # --- state lifecycle -----------------------------------------------------

    def reset(self) -> None:
        """Forget everything (before a full restore)."""
        self._reports.clear()
        self._cases.clear()
        self._idx = _Indexes()
        self._next_seq = 0
        self._stale_indexes = False
        self._dirty.clear()

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record of this engine (``None`` deletes)."""
        if key.startswith(REPORT_PREFIX):
            if value is None:
                self._reports.pop(key, None)
            else:
                self._reports[key] = ReportState.model_validate_json(value)
        elif key.startswith(CASE_PREFIX):
            case_id = key[len(CASE_PREFIX) :]
            if value is None:
                self._cases.pop(case_id, None)
            else:
                self._cases[case_id] = CaseState.model_validate_json(value)
        self._stale_indexes = True

    def owns(self, key: str) -> bool:
        """Whether a changelog key belongs to this engine."""
        return key.startswith((REPORT_PREFIX, CASE_PREFIX))

    def take_changes(self) -> list[tuple[str, bytes | None]]:
        """Changelog writes since the last call (sorted by key), and forget them."""
        changes: list[tuple[str, bytes | None]] = []
        for key in sorted(self._dirty):
            if key.startswith(REPORT_PREFIX):
                report = self._reports.get(key)
                changes.append((key, report.model_dump_json().encode() if report else None))
            else:
                case = self._cases.get(key[len(CASE_PREFIX) :])
                changes.append((key, case.model_dump_json().encode() if case else None))
        self._dirty.clear()
        return changes

    def discard_changes(self) -> None:
        """Forget pending changelog writes (the caller resets and restores next)."""
        self._dirty.clear()

    def reports_in_order(self) -> Iterator[ReportState]:
        """Every report, in arrival order."""
        self._ensure_indexes()
        return iter(sorted(self._reports.values(), key=lambda r: r.seq))

    def case_of(self, key: str) -> str | None:
        """The current case id of a report, by state key."""
        report = self._reports.get(key)
        return report.case_id if report else None

    @property
    def needs_rebuild(self) -> bool:
        """True after a restore, until the indexes are rebuilt."""
        return self._stale_indexes

    @property
    def size(self) -> tuple[int, int]:
        """(reports, cases) held."""
        return len(self._reports), len(self._cases)

    # --- deciding --------------------------------------------------------------

    def observe(self, report: NormalizedReport) -> Outcome:
        """Decide the case of one report version and update the state."""
        self._ensure_indexes()
        key = report_key(report.channel, report.external_id)
        seen = self._reports.get(key)
        if seen is not None:
            return self._another_version(seen, report)
        state = ReportState(
            seq=self._next_seq,
            # The text is not needed again (events of later versions show their own).
            first=report.model_copy(update={"summary": ""}),
            case_id="",
            versions=[report.version],
            latest_version_key=report.version_key,
        )
        self._next_seq += 1
        linked = sorted(
            {self._reports[k].case_id for k in self._candidates(report)},
            key=lambda c: self._cases[c].dispatch_seq,
        )
        ref = SourceRef(channel=report.channel, external_id=report.external_id)
        merged: tuple[CaseState, ...] = ()
        if not linked:
            case = CaseState(
                case_id=case_id_for(report.channel, report.external_id),
                dispatch_seq=state.seq,
                placement=report.placement,
                sources=[],
            )
            self._cases[case.case_id] = case
            kind = OutcomeKind.NEW_CASE
        elif len(linked) == 1:
            case = self._cases[linked[0]]
            kind = OutcomeKind.DUPLICATE_REPORT
        else:
            case = self._cases[linked[0]]
            merged = tuple(self._absorb(case, self._cases[c]) for c in linked[1:])
            kind = OutcomeKind.CASE_MERGED
        case.sources.append(ref)
        state.case_id = case.case_id
        self._reports[key] = state
        self._index(state)
        self._dirty.update((key, case.key))
        return Outcome(kind, report, report, key, _snapshot(case), merged, state.seq)

    def _another_version(self, seen: ReportState, report: NormalizedReport) -> Outcome:
        key = seen.key
        if report.version in seen.versions:
            return Outcome(OutcomeKind.REPEAT, report, seen.first, key, seq=seen.seq)
        if report.version_key <= seen.latest_version_key:
            return Outcome(OutcomeKind.STALE, report, seen.first, key, seq=seen.seq)
        seen.versions.append(report.version)
        seen.latest_version_key = report.version_key
        self._dirty.add(key)
        case = self._cases[seen.case_id]
        return Outcome(
            OutcomeKind.CASE_UPDATED,
            report,
            seen.first,
            key,
            _snapshot(case),
            seq=seen.seq,
        )

    def _absorb(self, survivor: CaseState, other: CaseState) -> CaseState:
        """Move ``other``'s reports into ``survivor``; returns ``other`` as it was."""
        for src in other.sources:
            key = report_key(src.channel, src.external_id)
            self._reports[key].case_id = survivor.case_id
            self._dirty.add(key)
        survivor.sources.extend(other.sources)
        del self._cases[other.case_id]
        self._dirty.add(other.key)
        return other

    # --- indexes ---------------------------------------------------------------

    def _candidates(self, report: NormalizedReport) -> set[str]:
        """Keys of earlier reports that match ``report``."""
        found: set[str] = set()
        employers = employer_tokens(report.employer_match)
        if not employers:
            return found
        proposed: set[str] = set()
        for person in report.person_tokens:
            for employer in employers:
                proposed.update(self._idx.by_person_employer.get((person, employer), ()))
        text_index = (
            self._idx.by_employer_anonymous if report.person_tokens else self._idx.by_employer_all
        )
        at = report.reported_at.timestamp()
        for employer in employers:
            proposed.update(_window(text_index.get(employer, []), at, TEXT_WINDOW))
        for key in proposed:
            if matches(report, self._reports[key].first):
                found.add(key)
        return found

    def _index(self, state: ReportState) -> None:
        report = state.first
        employers = employer_tokens(report.employer_match)
        entry = (report.reported_at.timestamp(), state.seq, state.key)
        for employer in employers:
            for person in report.person_tokens:
                self._idx.by_person_employer[(person, employer)].append(state.key)
            bisect.insort(self._idx.by_employer_all[employer], entry)
            if not report.person_tokens:
                bisect.insort(self._idx.by_employer_anonymous[employer], entry)

    def _ensure_indexes(self) -> None:
        if not self._stale_indexes:
            return
        self._idx = _Indexes()
        ordered = sorted(self._reports.values(), key=lambda r: r.seq)
        for state in ordered:
            self._index(state)
        self._next_seq = ordered[-1].seq + 1 if ordered else 0
        self._stale_indexes = False


def _snapshot(case: CaseState) -> CaseState:
    """A copy of ``case`` that later changes to it do not reach.

    Only ``sources`` is ever changed in place (appended to); placement and the
    source refs are frozen models, so a new list is a deep enough copy (and
    much cheaper than ``model_copy(deep=True)``, which the profile showed).
    """
    return case.model_copy(update={"sources": list(case.sources)})


def _window(entries: list[tuple[float, int, str]], at: float, width: timedelta) -> Iterable[str]:
    """Keys of index entries whose time lies within ``width`` of ``at`` (a superset)."""
    span = width.total_seconds() + _SLACK
    lo = bisect.bisect_left(entries, (at - span, -1, ""))
    hi = bisect.bisect_right(entries, (at + span, 2**62, "\uffff"))
    return (key for _, _, key in entries[lo:hi])
