"""The dedupe engine: reports in, case decisions out, state changes for the changelog.

Cases are the connected components of :func:`router.dispatch.matching.matches`
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

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from core.ids import digest_id
from router.dispatch.matching import TEXT_WINDOW, employer_tokens, matches_first
from router.dispatch.state.codec import CaseState, FirstVersion, StoredReport, to_us
from router.dispatch.state.index import person_employer_token
from router.dispatch.state.keys import CASE_PREFIX, REPORT_PREFIX, report_key
from router.dispatch.state.store import DispatchStore
from schemas.complaint import NormalizedReport, Placement
from schemas.dispatch import SourceRef

# Index windows are a superset (one second of slack); `matches` decides exactly.
_TEXT_SPAN_US = (TEXT_WINDOW + timedelta(seconds=1)) // timedelta(microseconds=1)


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
    first: NormalizedReport | FirstVersion  # the report's first version (dedupe, routing)
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


class DedupeEngine:
    """Decides each report's case over a :class:`DispatchStore`, recording state changes there.

    Nothing per report is kept in Python: reports and cases are read from the
    store (uncommitted writes first) and written back to it.
    """

    def __init__(self, store: DispatchStore | None = None) -> None:
        self._store = store if store is not None else DispatchStore()

    # --- state lifecycle -----------------------------------------------------

    def reset(self) -> None:
        """Forget everything (before a full restore)."""
        self._store.clear()

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record of this engine (``None`` deletes)."""
        self._store.restore(key, value)

    def owns(self, key: str) -> bool:
        """Whether a changelog key belongs to this engine."""
        return key.startswith((REPORT_PREFIX, CASE_PREFIX))

    def take_changes(self) -> list[tuple[str, bytes | None]]:
        """Changelog writes since the last call (sorted by key), and forget them."""
        return self._store.take()

    def discard_changes(self) -> None:
        """Forget writes not committed yet (the store still holds the committed state)."""
        self._store.discard()

    def case_of(self, key: str) -> str | None:
        """The current case id of a report, by state key."""
        report = self._report(key)
        return report.case_id if report else None

    # --- deciding --------------------------------------------------------------

    def observe(self, report: NormalizedReport) -> Outcome:
        """Decide the case of one report version and update the state."""
        key = report_key(report.channel, report.external_id)
        seen = self._report(key)
        if seen is not None:
            return self._another_version(key, seen, report)
        first = FirstVersion.of(report)
        state = StoredReport(
            seq=self._store.next_seq,
            case_id="",
            versions=[report.version],
            latest_version_key=report.version_key,
            first=first,
        )
        cases = {c: self._case(c) for c in {r.case_id for r in self._candidates(report)}}
        linked = sorted(cases.values(), key=lambda c: c.dispatch_seq)
        ref = SourceRef(channel=report.channel, external_id=report.external_id)
        merged: tuple[CaseState, ...] = ()
        if not linked:
            case = CaseState(
                case_id=case_id_for(report.channel, report.external_id),
                dispatch_seq=state.seq,
                placement=report.placement,
                sources=[],
            )
            kind = OutcomeKind.NEW_CASE
            new_case = True
        elif len(linked) == 1:
            case = linked[0]
            kind = OutcomeKind.DUPLICATE_REPORT
            new_case = False
        else:
            case = linked[0]
            merged = tuple(self._absorb(case, other) for other in linked[1:])
            kind = OutcomeKind.CASE_MERGED
            new_case = False
        case.sources.append(ref)
        state.case_id = case.case_id
        self._store.put(key, state.encode(), new=True)
        self._store.put(case.key, case.encode(), new=new_case)
        return Outcome(kind, report, report, key, case.snapshot(), merged, state.seq)

    def _another_version(self, key: str, seen: StoredReport, report: NormalizedReport) -> Outcome:
        if report.version in seen.versions:
            return Outcome(OutcomeKind.REPEAT, report, seen.first, key, seq=seen.seq)
        if report.version_key <= seen.latest_version_key:
            return Outcome(OutcomeKind.STALE, report, seen.first, key, seq=seen.seq)
        seen.versions.append(report.version)
        seen.latest_version_key = report.version_key
        self._store.put(key, seen.encode())
        case = self._case(seen.case_id)
        return Outcome(OutcomeKind.CASE_UPDATED, report, seen.first, key, case, seq=seen.seq)

    def _absorb(self, survivor: CaseState, other: CaseState) -> CaseState:
        """Move ``other``'s reports into ``survivor``; returns ``other`` as it was."""
        for src in other.sources:
            key = report_key(src.channel, src.external_id)
            moved = self._report(key)
            if moved is None:
                raise KeyError(f"case {other.case_id} lists a report the state lacks")
            moved.case_id = survivor.case_id
            self._store.put(key, moved.encode())
        survivor.sources.extend(other.sources)
        self._store.put(other.key, None)
        return other

    def move_case(self, case_id: str, placement: Placement) -> list[SourceRef]:
        """Give a case a new placement (a return, an assignment); its reports, in order.

        The case's later events go where the new placement says.
        """
        case = self._case(case_id)
        case.placement = placement
        self._store.put(case.key, case.encode())
        return list(case.sources)

    # --- reading the store -----------------------------------------------------

    def _report(self, key: str) -> StoredReport | None:
        value = self._store.get(key)
        return StoredReport.decode(value) if value is not None else None

    def _case(self, case_id: str) -> CaseState:
        value = self._store.get(CASE_PREFIX + case_id)
        if value is None:
            raise KeyError(f"case {case_id} is not in the state")
        return CaseState.decode(case_id, value)

    def _candidates(self, report: NormalizedReport) -> list[StoredReport]:
        """Earlier reports that match ``report`` (each read and decoded once)."""
        employers = employer_tokens(report.employer_match)
        if not employers:
            return []
        proposed = self._store.person_employer_keys(
            [person_employer_token(p, e) for p in report.person_tokens for e in employers]
        )
        at = to_us(report.reported_at)
        for employer in employers:
            proposed |= self._store.employer_window(
                employer,
                at - _TEXT_SPAN_US,
                at + _TEXT_SPAN_US,
                anonymous=bool(report.person_tokens),
            )
        found: list[StoredReport] = []
        mine = frozenset(report.shingles) if proposed else frozenset()
        for key in proposed:
            stored = self._report(key)
            if stored is not None and matches_first(report, stored.first, mine):
                found.append(stored)
        return found
