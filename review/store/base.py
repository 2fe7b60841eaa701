"""The case store's interface, and what a row of it holds.

The store materialises topics into tables like a Kafka Connect sink: each
:meth:`CaseStore.apply` writes a batch of records *and* the next offset of
each partition they came from in one database transaction, so after a crash
the sink resumes at exactly the offsets the rows reflect: no row lost, none
applied twice. Two backends implement it: SQLite embedded (the default,
:mod:`review.store.sqlite`) and PostgreSQL (:mod:`review.store.postgres`).

What it holds, from ``cases.state`` (the last state of every case) and from
``router.dlq`` (the router's refusals of case actions, by action id).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson

from core.times import to_us
from schemas.caseloop import CaseState, CaseStatus

DONE_STATUSES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value)


@dataclass(frozen=True)
class CaseRow:
    """The queryable columns of one case, and its whole state as JSON."""

    case_id: str
    district: str | None
    status: str
    urgency: str
    category: str
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
            dispatched_us=to_us(state.dispatched_at),
            updated_us=to_us(state.updated_at),
            next_due_us=to_us(min(dues)) if dues else None,
            value=value,
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
    """One record to apply: a case state (or its deletion), or an action refusal."""

    case_id: str | None = None
    state: CaseState | None = None
    value: bytes | None = None
    refusal: Refusal | None = None


Offsets = dict[tuple[str, int], int]
"""(topic, partition) -> next offset to read."""


class CaseStore(Protocol):
    """Cases and refusals, materialised with the offsets they reflect."""

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

    def close(self) -> None:
        """Release the connection."""
        ...


def load_state(value: bytes) -> CaseState:
    """A stored case state."""
    return CaseState.model_validate(orjson.loads(value))
