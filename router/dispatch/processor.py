"""Stage 2 of the router as a runtime processor: dedupe, dispatch events, alerts.

Input: ``router_normalized`` in one total order. Outputs: dispatch events on
``dispatch.<slug>`` / ``dispatch.triage`` and alerts on ``alerts.risk``; the
state (reports, cases, alerts) goes to the compacted changelog. Decisions
depend only on the records and their order (ids are hashes of upstream ids
and versions), so a replay after a crash emits the same events; only
``dispatched_at`` / ``raised_at`` / ``updated_at`` read the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import structlog
from pydantic import ValidationError

from core.ids import digest_id
from core.kafka.topics import TopicCatalog
from router.dispatch.alerts import AlertTracker, count_persons
from router.dispatch.engine import DedupeEngine, Outcome, OutcomeKind
from router.dispatch.loop import CaseLoop, LoopSettings
from router.dispatch.state.codec import AlertState, CaseState
from router.dispatch.state.legacy import upgrade
from router.dispatch.state.store import DispatchStore
from router.errors import UnreadableRecordError
from router.processor import InputRecord, Output
from router.records import channel_guess, dead_letter, describe_validation_error, header
from schemas.alert import ALERT_SCHEMA, Alert
from schemas.caseloop import CASE_ACTION_SCHEMA, CaseAction
from schemas.complaint import NormalizedReport
from schemas.dispatch import DISPATCH_SCHEMA, DispatchEvent, EventType, ReportRef
from schemas.raw import utc_now

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def event_id_for(report: NormalizedReport) -> str:
    """Deterministic id of the event of one report version."""
    return "evt-" + digest_id("event", report.channel, report.external_id, report.version)


class DispatchProcessor:
    """Stage 2: dedupe, dispatch events, alerts; state through the changelog."""

    def __init__(
        self,
        catalog: TopicCatalog,
        clock: Clock = utc_now,
        state_root: Path | None = None,
        loop: LoopSettings | None = None,
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        # state_root None: an in-memory store (tests); else a slot directory under it.
        self._store = DispatchStore(state_root)
        self._engine = DedupeEngine(self._store)
        self._alerts = AlertTracker(self._store)
        self._loop = (
            CaseLoop(self._store, self._engine, catalog, loop.calendar, loop.clock)
            if loop is not None
            else None
        )

    # --- StatefulProcessor -----------------------------------------------------

    def restore(self, key: bytes, value: bytes | None) -> None:
        """Apply one changelog record (``None`` is a tombstone); stored at :meth:`committed`."""
        text = key.decode()
        if self._engine.owns(text) or self._alerts.owns(text) or CaseLoop.owns(text):
            self._store.restore(text, upgrade(text, value))

    def take_changes(self) -> list[tuple[bytes, bytes | None]]:
        """Changelog writes accumulated since the last call."""
        return [(k.encode(), v) for k, v in self._store.take()]

    def discard_changes(self) -> None:
        """Forget uncommitted changes; the store still holds the committed state."""
        self._store.discard()

    def reset(self) -> None:
        """Drop all state (the store is emptied, before a full replay)."""
        self._store.clear()

    def checkpoint(self) -> dict[int, int] | None:
        """Changelog offsets (partition -> next) the store holds; None: replay it all."""
        return self._store.checkpoint()

    def committed(self, changelog_ends: dict[int, int]) -> None:
        """The taken changes (or restored records) are committed up to these offsets."""
        self._store.committed(changelog_ends)

    def live_keys(self) -> int:
        """Live changelog keys in the committed state."""
        return self._store.live_keys()

    def replayed(self) -> None:
        """The changelog replay is over: the store builds what a full replay left."""
        self._store.replayed()

    def close(self) -> None:
        """Close the store and release its slot."""
        self._store.close()

    # --- processing ------------------------------------------------------------

    def process(self, record: InputRecord) -> list[Output]:
        """Dispatch events, alerts and case states for one normalised report version, or a
        district's action applied to its case."""
        now = self._clock()
        if header(record, "schema") == CASE_ACTION_SCHEMA:
            return self._act(record, now)
        try:
            report = NormalizedReport.model_validate_json(record.value or b"")
        except ValidationError as exc:
            channel = channel_guess(record, self._catalog)
            if channel is None:
                raise UnreadableRecordError("normalized_invalid", "no channel") from exc
            return [
                dead_letter(
                    self._catalog,
                    record,
                    channel,
                    "unknown",
                    None,
                    "normalized_invalid",
                    describe_validation_error(exc),
                    now,
                )
            ]
        outcome = self._engine.observe(report)
        if outcome.kind in (OutcomeKind.REPEAT, OutcomeKind.STALE):
            # dispatch.md: a version that is not newer than one seen produces nothing.
            log.info(
                "router_version_dropped",
                reason=str(outcome.kind),
                channel=str(report.channel),
                source=report.source,
            )
            return []
        case = outcome.dispatched_case()
        event, outputs = self._events(outcome, case, now)
        if outcome.kind is OutcomeKind.CASE_UPDATED:
            return outputs  # an upstream's new version (maybe the echo of a reply): no move
        alerted: list[str] = []
        for alert in self._alerts.observe(
            outcome.seq, outcome.report_key, report, case.placement.district, now
        ):
            output, case_ids = self._alert_output(alert, now)
            outputs.append(output)
            alerted += case_ids
        if self._loop is not None:
            if outcome.kind is OutcomeKind.NEW_CASE:
                outputs += self._loop.dispatched(event, case.case_id in alerted, now)
            else:
                outputs += self._loop.reported(event, now)
            outputs += self._loop.escalated(alerted, now)
        return outputs

    def punctuate(self) -> list[Output]:
        """SLA alerts and auto-closes whose time has come (the runtime calls it every second)."""
        return self._loop.punctuate(self._clock()) if self._loop is not None else []

    def _act(self, record: InputRecord, now: datetime) -> list[Output]:
        action = CaseAction.model_validate_json(record.value or b"")  # checked by stage 1
        applied = self._loop.acted(action, now) if self._loop is not None else None
        if isinstance(applied, list):
            return applied
        why = applied.message if applied is not None else "action: the case loop is switched off"
        kind = f"action_refused.{applied.kind}" if applied is not None else "action_refused"
        log.info("case_action_refused", action=str(action.action), kind=kind, actor=action.actor)
        return [
            dead_letter(self._catalog, record, None, action.actor, action.action_id, kind, why, now)
        ]

    def _topic(self, district: str | None) -> str:
        return self._catalog.dispatch(district) if district else self._catalog.triage

    def _events(
        self, outcome: Outcome, case: CaseState, now: datetime
    ) -> tuple[DispatchEvent, list[Output]]:
        first, report = outcome.first, outcome.report
        event = DispatchEvent(
            event_id=event_id_for(report),
            event_type=EventType(outcome.kind.value),
            case_id=case.case_id,
            district=case.placement.district,
            routing_reason=case.placement.routing_reason,
            triage_reason=case.placement.triage_reason,
            category=first.category,
            report=ReportRef(
                channel=report.channel,
                external_id=report.external_id,
                version=report.version,
                reported_at=report.reported_at,
                fetched_at=report.fetched_at,
            ),
            sources=list(case.sources),
            merged_case_ids=[m.case_id for m in outcome.merged],
            complainant=first.complainant,
            employer=first.employer,
            location=first.location,
            people_involved=report.people_involved,
            summary=report.summary,
            status=report.status,
            dispatched_at=now,
        )
        topics = [self._topic(case.placement.district)]
        for merged in outcome.merged:
            topic = self._topic(merged.placement.district)
            if topic not in topics:
                topics.append(topic)
        value = event.to_json()
        headers = (
            ("schema", DISPATCH_SCHEMA.encode()),
            ("channel", str(report.channel).encode()),
            ("trace_id", report.trace_id.encode()),
        )
        return event, [Output(topic, case.case_id.encode(), value, headers) for topic in topics]

    def _alert_output(self, state: AlertState, now: datetime) -> tuple[Output, list[str]]:
        """The alert's record, and the cases it concerns."""
        case_ids: list[str] = []
        for member in state.members:
            case_id = self._engine.case_of(member.report_key)
            if case_id is not None and case_id not in case_ids:
                case_ids.append(case_id)
        times = [m.reported_at for m in state.members]
        alert = Alert(
            alert_id=state.alert_id,
            kind=state.kind,
            employer=state.employer,
            employer_key=state.employer_key,
            district=state.district,
            case_ids=case_ids,
            persons=count_persons(m.person_tokens for m in state.members),
            people_involved=max(m.people_involved for m in state.members),
            window_start=min(times),
            window_end=max(times),
            open_until=state.open_until,
            raised_at=state.raised_at,
            updated_at=now,
        )
        output = Output(
            topic=self._catalog.alerts,
            key=(state.employer_key or state.alert_id).encode(),
            value=alert.to_json(),
            headers=(("schema", ALERT_SCHEMA.encode()),),
        )
        return output, case_ids
