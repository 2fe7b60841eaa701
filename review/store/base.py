"""The case store's interface, and what a row of it holds.

The store materialises topics into tables like a Kafka Connect sink: each
:meth:`CaseStore.apply` writes a batch of records *and* the next offset of
each partition they came from in one database transaction, so after a crash
the sink resumes at exactly the offsets the rows reflect: no row lost, none
applied twice. Two backends implement it: SQLite embedded (the default,
:mod:`review.store.sqlite`) and PostgreSQL (:mod:`review.store.postgres`); the
tables and the queries are shared (:mod:`review.store.sql`).

What it holds:

- ``cases``: the last state of every case (``cases.state``; a tombstone deletes);
- ``events``: one row per dispatch event (``dispatch.*``), only masked or
  pseudonymous personal fields (no name, no phone: ``person_key`` alone);
- ``risk_alerts`` and ``sla_alerts``: the latest version of each alert id
  (``alerts.risk``, ``alerts.sla``);
- ``refusals``: the router's refusals of case actions (``router.dlq``), by action id;
- ``offsets`` and ``meta`` (the schema version, the loop clock the daemon ran).

Readers other than the case API (the weekly report, the board) ask
:meth:`CaseStore.select` plain SQL over these tables, in the dialect both
backends share (``?`` placeholders).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.times import opt_us, to_us
from schemas.alert import Alert
from schemas.caseloop import CaseState, CaseStatus, SlaAlert
from schemas.dispatch import DispatchEvent

DONE_STATUSES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value)


@dataclass(frozen=True)
class CaseRow:
    """The queryable columns of one case, and its whole state as JSON."""

    case_id: str
    district: str | None
    status: str
    urgency: str
    category: str
    street: str | None
    dispatched_us: int
    updated_us: int
    next_due_us: int | None  # the earliest deadline of a running clock
    value: bytes

    @classmethod
    def of(cls, state: CaseState, value: bytes) -> CaseRow:
        """The row of a case state (``value``: its JSON as read)."""
        dues = [c.due_at for c in state.clocks.values() if c.state == "running" and c.due_at]
        return cls(
            case_id=state.case_id,
            district=state.district,
            status=state.status.value,
            urgency=state.urgency.value,
            category=state.category.value,
            street=state.street,
            dispatched_us=to_us(state.dispatched_at),
            updated_us=to_us(state.updated_at),
            next_due_us=to_us(min(dues)) if dues else None,
            value=value,
        )


@dataclass(frozen=True)
class EventRow:
    """One dispatch event: who, where, what, when; no name or phone, only ``person_key``."""

    event_id: str
    case_id: str
    topic: str
    district: str | None
    event_type: str
    channel: str
    external_id: str
    category: str
    street: str | None
    employer_name: str | None
    employer_uscc: str | None
    person_key: str | None
    people: int
    reported_us: int
    dispatched_us: int  # wall clock, as the event carries it
    summary: str  # numbers already masked by the router

    @classmethod
    def of(cls, event: DispatchEvent, topic: str) -> EventRow:
        """The row of a dispatch event read from ``topic``."""
        employer = event.employer
        return cls(
            event_id=event.event_id,
            case_id=event.case_id,
            topic=topic,
            district=event.district,
            event_type=event.event_type.value,
            channel=event.report.channel.value,
            external_id=event.report.external_id,
            category=event.category.value,
            street=event.location.street,
            employer_name=employer.name if employer else None,
            employer_uscc=employer.uscc if employer else None,
            person_key=event.complainant.person_key if event.complainant else None,
            people=event.people_involved,
            reported_us=to_us(event.report.reported_at),
            dispatched_us=to_us(event.dispatched_at),
            summary=event.summary,
        )


@dataclass(frozen=True)
class RiskRow:
    """The latest version of one risk alert (``alerts.risk``)."""

    alert_id: str
    kind: str
    district: str | None
    employer_name: str | None
    employer_uscc: str | None
    cases: int
    persons: int
    people: int
    open_until_us: int  # report time
    raised_us: int  # wall clock
    updated_us: int

    @classmethod
    def of(cls, alert: Alert) -> RiskRow:
        """The row of a risk alert."""
        return cls(
            alert_id=alert.alert_id,
            kind=alert.kind.value,
            district=alert.district,
            employer_name=alert.employer.name if alert.employer else None,
            employer_uscc=alert.employer.uscc if alert.employer else None,
            cases=len(alert.case_ids),
            persons=alert.persons,
            people=alert.people_involved,
            open_until_us=to_us(alert.open_until),
            raised_us=to_us(alert.raised_at),
            updated_us=to_us(alert.updated_at),
        )


@dataclass(frozen=True)
class SlaRow:
    """One supervision alert (``alerts.sla``); its times are the loop's."""

    alert_id: str
    case_id: str
    district: str | None
    clock: str
    level: str
    reopening: int
    due_us: int | None
    level_us: int
    raised_us: int
    urgency: str
    category: str

    @classmethod
    def of(cls, alert: SlaAlert) -> SlaRow:
        """The row of a supervision alert."""
        return cls(
            alert_id=alert.alert_id,
            case_id=alert.case_id,
            district=alert.district,
            clock=alert.clock.value,
            level=alert.level.value,
            reopening=alert.reopening,
            due_us=opt_us(alert.due_at),
            level_us=to_us(alert.level_at),
            raised_us=to_us(alert.raised_at),
            urgency=alert.urgency.value,
            category=alert.category.value,
        )


@dataclass(frozen=True)
class Refusal:
    """The router's refusal of one action."""

    action_id: str
    case_id: str | None
    kind: str
    message: str


@dataclass(frozen=True)
class CaseQuery:
    """A page of cases: filters, and which page (1-based) of how many rows."""

    district: str | None = None
    status: str | None = None
    overdue_at: datetime | None = None  # only cases with a running clock due by then
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class Change:
    """One record to apply: a case state (or, with only ``case_id``, its deletion), an
    action refusal, a dispatch event, or a risk or supervision alert."""

    case_id: str | None = None
    state: CaseState | None = None
    value: bytes | None = None
    refusal: Refusal | None = None
    event: EventRow | None = None
    risk: RiskRow | None = None
    sla: SlaRow | None = None

    @property
    def deletes_case(self) -> bool:
        """Whether this is a ``cases.state`` tombstone (the case was merged away)."""
        return (
            self.case_id is not None
            and self.state is None
            and not (self.refusal or self.event or self.risk or self.sla)
        )


Offsets = dict[tuple[str, int], int]
"""(topic, partition) -> next offset to read."""


class CaseStore(Protocol):
    """Cases, events, alerts and refusals, materialised with the offsets they reflect."""

    def offsets(self) -> Offsets:
        """The next offset of every partition applied so far."""
        ...

    def apply(self, changes: list[Change], offsets: Offsets) -> None:
        """Write ``changes`` and ``offsets`` in one transaction (all or nothing)."""
        ...

    def case(self, case_id: str) -> CaseState | None:
        """The last state of one case."""
        ...

    def cases(self, query: CaseQuery) -> tuple[list[CaseState], int]:
        """One page of cases (latest update first) and how many match in all."""
        ...

    def states(self, *, touched_since: datetime | None = None) -> Iterator[CaseState]:
        """Every case (only those updated since ``touched_since`` or not done yet, if given)."""
        ...

    def refusal(self, action_id: str) -> Refusal | None:
        """The router's refusal of an action, if it refused it."""
        ...

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only query in the shared dialect (``?`` placeholders)."""
        ...

    def put_meta(self, key: str, value: str) -> None:
        """Record one fact about the store (in its own transaction)."""
        ...

    def meta(self, key: str) -> str | None:
        """A fact recorded with :meth:`put_meta`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def load_state(value: bytes) -> CaseState:
    """A stored case state."""
    return CaseState.model_validate_json(value)
