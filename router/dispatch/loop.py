"""The case loop in the dispatch stage: caseloop's rules applied with the dispatch state.

Every case dispatched gets a loop state (``l/<case_id>`` in the changelog) whose
clocks start then; reports, alerts and the districts' actions move it on, and
the loop's timers raise the supervision levels. Whatever changes a case writes,
in the same transaction as the change: its ``cases.state`` record, its SLA
alerts (``alerts.sla``), and, for a return or an assignment, the dispatch
event that moves the case (``case_returned`` to ``dispatch.triage``,
``case_assigned`` to the new district) together with its new placement in the
dedupe state, so the case's later events follow it there.

Times are loop time (:class:`caseloop.loopclock.LoopClock`), deadlines come
from the working-day calendar in force (:class:`CalendarSource`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import structlog

from caseloop.calendar import WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.limits import urgency_of
from caseloop.loopclock import LoopClock
from caseloop.supervision import mark_raised, raised_key, reached, sla_alert, survey
from caseloop.transitions import (
    Refusal,
    RefusalKind,
    Signal,
    SignalKind,
    action_time,
    apply_action,
    auto_close,
    on_emergency,
    on_new_report,
    open_case,
    refusal,
)
from core.kafka.topics import TopicCatalog
from core.times import to_us
from router.dispatch.engine import DedupeEngine
from router.dispatch.moves import brief_of, move_output
from router.dispatch.state.keys import LOOP_PREFIX
from router.dispatch.state.store import DispatchStore
from router.processor import Output
from schemas.caseloop import CASE_SCHEMA, SLA_ALERT_SCHEMA, CaseAction, ClockName, SlaLevel, Urgency
from schemas.dispatch import DispatchEvent

log = structlog.get_logger(__name__)

CalendarSource = Callable[[], WorkingDayCalendar]
# Cases looked at per punctuation at most (the rest on the next one, a second later).
PUNCTUATE_BATCH = 500


@dataclass(frozen=True)
class LoopSettings:
    """What the case loop needs from the process: the calendar in force and loop time."""

    calendar: CalendarSource
    clock: LoopClock


class CaseLoop:
    """Opens, moves and supervises cases over the dispatch stage's store."""

    def __init__(
        self,
        store: DispatchStore,
        engine: DedupeEngine,
        catalog: TopicCatalog,
        calendar: CalendarSource,
        clock: LoopClock,
    ) -> None:
        self._store = store
        self._engine = engine
        self._catalog = catalog
        self._calendar = calendar
        self._clock = clock
        self._warned_years: set[int] = set()

    @staticmethod
    def owns(key: str) -> bool:
        """Whether a changelog key is a loop state."""
        return key.startswith(LOOP_PREFIX)

    # --- what the dispatch stage tells it ------------------------------------------------

    def dispatched(self, event: DispatchEvent, in_open_alert: bool, now: datetime) -> list[Output]:
        """A ``new_case`` event was written: open the case's loop."""
        at = self._clock.at(now)
        case = open_case(
            self._calendar(),
            case_id=event.case_id,
            district=event.district,
            category=event.category,
            urgency=urgency_of(event.category, event.people_involved, in_open_alert),
            people_involved=event.people_involved,
            street=event.location.street,
            sources=tuple((str(s.channel), s.external_id) for s in event.sources),
            at=at,
        )
        return self._save(case, brief_of(event), [], at)

    def reported(self, event: DispatchEvent, now: datetime) -> list[Output]:
        """A ``duplicate_report`` or ``case_merged`` event: new sources; maybe a reopening."""
        at = self._clock.at(now)
        found = self._load(event.case_id)
        if found is None:
            return []  # a case from before the loop existed: nothing to move
        case, brief = found
        outputs: list[Output] = []
        for merged_id in event.merged_case_ids:
            outputs += self._drop(merged_id)
        case, caught_up = self._catch_up(case, at)
        sources = tuple((str(s.channel), s.external_id) for s in event.sources)
        case = case.changed(at, sources=sources)
        transition = on_new_report(self._calendar(), case, at)
        return (
            outputs + caught_up + self._save(transition.case, brief, list(transition.signals), at)
        )

    def escalated(self, case_ids: Iterable[str], now: datetime) -> list[Output]:
        """These cases joined an open risk alert: they are emergencies from now."""
        at = self._clock.at(now)
        outputs: list[Output] = []
        for case_id in dict.fromkeys(case_ids):
            found = self._load(case_id)
            if found is None:
                continue
            case, brief = found
            if case.urgency is Urgency.EMERGENCY:
                continue  # limits never grow: nothing to shorten
            case, caught_up = self._catch_up(case, at)
            shortened = on_emergency(self._calendar(), case, at)
            if shortened is not case:
                # A level the shorter limit puts in the past is reached now, not back then.
                outputs += caught_up + self._save(shortened, brief, [], at, floor=at)
        return outputs

    def acted(self, action: CaseAction, now: datetime) -> list[Output] | Refusal:
        """Apply ``action``, or say why it does not fit (a repeated ``action_id``: nothing)."""
        at = self._clock.at(now)
        found = self._load(action.case_id)
        if found is None:
            return refusal(None, action) or Refusal(RefusalKind.UNKNOWN_CASE, action.case_id)
        case, brief = found
        if case.applied(action.action_id):
            return []
        # Judged on the case as it stood when the action was done: levels reached and an
        # auto-close due by then come first.
        case, caught_up = self._catch_up(case, action_time(case, action, at))
        why = refusal(case, action)
        if why is not None:
            return why  # what the catch-up found is raised by the next punctuation
        transition = apply_action(self._calendar(), case, action, at)
        moved = [
            move_output(self._catalog, self._engine, brief, transition.case, s, action, now)
            for s in transition.signals
            if s.kind in (SignalKind.RETURNED, SignalKind.ASSIGNED)
        ]
        outputs = caught_up + moved
        return outputs + self._save(transition.case, brief, list(transition.signals), at)

    def punctuate(self, now: datetime) -> list[Output]:
        """Raise every SLA level and auto-close every case whose time has come."""
        at = self._clock.at(now)
        outputs: list[Output] = []
        for key in self._store.due_loops(to_us(at), PUNCTUATE_BATCH):
            found = self._load(key[len(LOOP_PREFIX) :])
            if found is None:
                continue
            case, brief = found
            closed = auto_close(case, at)
            outputs += self._save(closed, brief, [], at, changed=closed is not case)
        return outputs

    # --- state -------------------------------------------------------------------------

    def _load(self, case_id: str) -> tuple[LoopCase, dict[str, Any]] | None:
        value = self._store.get(LOOP_PREFIX + case_id)
        if value is None:
            return None
        raw = orjson.loads(value)
        return LoopCase.decode(raw["case"]), raw["brief"]

    def _catch_up(self, case: LoopCase, at: datetime) -> tuple[LoopCase, list[Output]]:
        """``case`` brought up to ``at``: its auto-close if due, the levels reached by then
        raised (the alerts to publish with whatever comes next)."""
        case = auto_close(case, at)
        reached_now = reached(self._calendar(), case, at)
        outputs = [self._sla(case, r.clock, r.level, r.at, at) for r in reached_now]
        return mark_raised(case, [r.key for r in reached_now]), outputs

    def _save(
        self,
        case: LoopCase,
        brief: dict[str, Any],
        signals: list[Signal],
        at: datetime,
        *,
        changed: bool = True,
        floor: datetime | None = None,
    ) -> list[Output]:
        """Raise what is due (no level earlier than ``floor``), store the case and its next
        look, and publish what changed."""
        cal = self._calendar()
        outputs: list[Output] = []
        keys: list[str] = []
        for signal in signals:
            if signal.kind is SignalKind.SLA and signal.level is not None:
                key = raised_key(ClockName.RESOLVE, signal.level, case.restarts)
                if key not in case.raised:
                    keys.append(key)
                    outputs.append(self._sla(case, ClockName.RESOLVE, signal.level, signal.at, at))
        reached_now, look = survey(cal, case, at)
        for level in reached_now:
            keys.append(level.key)
            level_at = max(level.at, floor) if floor is not None else level.at
            outputs.append(self._sla(case, level.clock, level.level, level_at, at))
        case = mark_raised(case, keys)
        self._warn_unknown_years(cal, case, at)
        value = orjson.dumps(
            # "look": when the case next needs a look; the store indexes it (its timers).
            {"case": case.encode(), "brief": brief, "look": to_us(look) if look else None}
        )
        self._store.put(LOOP_PREFIX + case.case_id, value)
        if changed:
            outputs.append(
                Output(
                    self._catalog.cases_state,
                    case.case_id.encode(),
                    case.state_json(),
                    (("schema", CASE_SCHEMA.encode()),),
                )
            )
        return outputs

    def _warn_unknown_years(self, cal: WorkingDayCalendar, case: LoopCase, at: datetime) -> None:
        """Warn (once per year) when a deadline lies in a year the calendar does not know."""
        for clock in case.clocks.values():
            if clock.state != "running" or clock.due_at is None:
                continue
            for year in cal.unknown_years_between(at, clock.due_at):
                if year not in self._warned_years:
                    self._warned_years.add(year)
                    log.warning(
                        "deadline past the known calendar: Monday to Friday count as working "
                        "days; load the year with `unionhub calendar load`",
                        year=year,
                    )

    def _drop(self, case_id: str) -> list[Output]:
        """A case merged into another: its loop ends, its state record is deleted."""
        if self._store.get(LOOP_PREFIX + case_id) is None:
            return []
        self._store.put(LOOP_PREFIX + case_id, None)
        return [Output.tombstone(self._catalog.cases_state, case_id.encode())]

    def _sla(
        self, case: LoopCase, clock: ClockName, level: SlaLevel, level_at: datetime, at: datetime
    ) -> Output:
        alert = sla_alert(case, clock, level, level_at, at, case.restarts)
        log.info(
            "sla_alert",
            case_id=case.case_id,
            clock=str(clock),
            level=str(level),
            district=case.district,
        )
        return Output(
            self._catalog.sla_alerts,
            case.case_id.encode(),
            alert.to_json(),
            (("schema", SLA_ALERT_SCHEMA.encode()),),
        )
