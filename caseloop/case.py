"""One case's loop state, as the router keeps it, and its public view (``unionhub.case/1``).

:class:`LoopCase` is immutable; :mod:`caseloop.transitions` derives new ones.
:meth:`LoopCase.encode` / :meth:`LoopCase.decode` are its compact changelog
form (times in integer microseconds); :meth:`LoopCase.view` is the value of
``cases.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

from caseloop.clocks import Clock
from core.times import from_us, opt_from_us, opt_us, to_us
from schemas.caseloop import (
    CASE_SCHEMA,
    CaseState,
    CaseStatus,
    ClockName,
    ClockView,
    HistoryEntry,
    ResolveResult,
    ResolveRun,
    Satisfaction,
    Urgency,
)
from schemas.channels import Channel
from schemas.complaint import Category
from schemas.dispatch import SourceRef


@dataclass(frozen=True)
class Run:
    """One run of the resolve clock (for the figures)."""

    started_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None = None
    result: ResolveResult | None = None
    stopped_at: datetime | None = None  # a return ended it unresolved


@dataclass(frozen=True)
class Entry:
    """One applied action or loop event."""

    action_id: str
    action: str
    actor: str
    at: datetime
    # What the figures need from it: a visit's answer, a return's district.
    detail: str | None = None
    # A resolve's reason, masked: the text the worker's channel is told (caseloop.md).
    reason: str | None = None


@dataclass(frozen=True)
class LoopCase:
    """Everything the loop knows about one case."""

    case_id: str
    district: str | None
    category: Category
    urgency: Urgency
    status: CaseStatus
    dispatched_at: datetime
    people_involved: int
    street: str | None
    sources: tuple[tuple[str, str], ...]
    clocks: dict[ClockName, Clock] = field(default_factory=dict)
    runs: tuple[Run, ...] = ()
    history: tuple[Entry, ...] = ()
    raised: frozenset[str] = frozenset()  # "clock/level/run" already raised
    version: int = 1
    restarts: int = 0  # runs of the clocks begun anew: reopenings and assignments
    reopened: int = 0
    returned: int = 0
    before_suspend: CaseStatus | None = None
    satisfaction: Satisfaction | None = None
    result: ResolveResult | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None

    def applied(self, action_id: str) -> bool:
        """Whether an action with this id is in the history already."""
        return any(entry.action_id == action_id for entry in self.history)

    def changed(self, at: datetime, **changes: Any) -> LoopCase:
        """A copy with ``changes``, the next version, updated at ``at`` (or later: an action
        done before the last change is applied after it, and ``updated_at`` never runs back)."""
        updated = at if self.updated_at is None else max(at, self.updated_at)
        return replace(self, version=self.version + 1, updated_at=updated, **changes)

    # --- the changelog form ----------------------------------------------------------

    def encode(self) -> dict[str, Any]:
        """A compact JSON-able dict (times in µs)."""
        return {
            "id": self.case_id,
            "d": self.district,
            "cat": str(self.category),
            "u": str(self.urgency),
            "s": str(self.status),
            "at": to_us(self.dispatched_at),
            "p": self.people_involved,
            "st": self.street,
            "src": [list(s) for s in self.sources],
            "c": {str(name): _clock(c) for name, c in self.clocks.items()},
            "runs": [
                [
                    to_us(r.started_at),
                    opt_us(r.due_at),
                    opt_us(r.resolved_at),
                    r.result,
                    opt_us(r.stopped_at),
                ]
                for r in self.runs
            ],
            "h": [_entry(e) for e in self.history],
            "r": sorted(self.raised),
            "v": self.version,
            "rs": self.restarts,
            "ro": self.reopened,
            "rt": self.returned,
            "bs": self.before_suspend,
            "sat": self.satisfaction,
            "res": self.result,
            "ra": opt_us(self.resolved_at),
            "ca": opt_us(self.closed_at),
            "ua": opt_us(self.updated_at),
        }

    @classmethod
    def decode(cls, raw: dict[str, Any]) -> LoopCase:
        """Inverse of :meth:`encode`."""
        return cls(
            case_id=raw["id"],
            district=raw["d"],
            category=Category(raw["cat"]),
            urgency=Urgency(raw["u"]),
            status=CaseStatus(raw["s"]),
            dispatched_at=from_us(raw["at"]),
            people_involved=raw["p"],
            street=raw["st"],
            sources=tuple((ch, ext) for ch, ext in raw["src"]),
            clocks={ClockName(name): _unclock(c) for name, c in raw["c"].items()},
            runs=tuple(
                Run(
                    from_us(a),
                    opt_from_us(d),
                    opt_from_us(r),
                    res and ResolveResult(res),
                    opt_from_us(stop),
                )
                for a, d, r, res, stop in raw["runs"]
            ),
            history=tuple(_unentry(e) for e in raw["h"]),
            raised=frozenset(raw["r"]),
            version=raw["v"],
            restarts=raw["rs"],
            reopened=raw["ro"],
            returned=raw["rt"],
            before_suspend=raw["bs"] and CaseStatus(raw["bs"]),
            satisfaction=raw["sat"] and Satisfaction(raw["sat"]),
            result=raw["res"] and ResolveResult(raw["res"]),
            resolved_at=opt_from_us(raw["ra"]),
            closed_at=opt_from_us(raw["ca"]),
            updated_at=opt_from_us(raw["ua"]),
        )

    # --- the public view ----------------------------------------------------------------

    def state_json(self) -> bytes:
        """``view().to_json()``, byte for byte, without building the pydantic model: the
        dispatch stage writes one per case change (the model stays the schema, and
        ``tests/unit/test_caseloop_transitions.py`` holds the two equal)."""
        return orjson.dumps(
            {
                "schema": CASE_SCHEMA,
                "case_id": self.case_id,
                "version": self.version,
                "district": self.district,
                "category": self.category,
                "urgency": self.urgency,
                "status": self.status,
                "clocks": {
                    str(name): {
                        "started_at": c.run_start,
                        "due_at": c.due_at,
                        "met_at": c.met_at,
                        "state": c.state,
                        "unit": c.unit,
                    }
                    for name, c in self.clocks.items()
                },
                "runs": [
                    {
                        "started_at": r.started_at,
                        "due_at": r.due_at,
                        "resolved_at": r.resolved_at,
                        "stopped_at": r.stopped_at,
                        "result": r.result,
                    }
                    for r in self.runs
                ],
                "reopened": self.reopened,
                "returned": self.returned,
                "satisfaction": self.satisfaction,
                "result": self.result,
                "resolved_at": self.resolved_at,
                "closed_at": self.closed_at,
                "dispatched_at": self.dispatched_at,
                "street": self.street,
                "sources": [{"channel": ch, "external_id": ext} for ch, ext in self.sources],
                "history": [
                    {
                        "action_id": e.action_id,
                        "action": e.action,
                        "actor": e.actor,
                        "at": e.at,
                        "detail": e.detail,
                        "reason": e.reason,
                    }
                    for e in self.history
                ],
                "updated_at": self.updated_at or self.dispatched_at,
            },
            option=orjson.OPT_UTC_Z,  # pydantic writes UTC as "Z"
        )

    def view(self) -> CaseState:
        """The ``cases.state`` value of this case."""
        return CaseState(
            case_id=self.case_id,
            version=self.version,
            district=self.district,
            category=self.category,
            urgency=self.urgency,
            status=self.status,
            clocks={name: _view(c) for name, c in self.clocks.items()},
            runs=[
                ResolveRun(
                    started_at=r.started_at,
                    due_at=r.due_at,
                    resolved_at=r.resolved_at,
                    stopped_at=r.stopped_at,
                    result=r.result,
                )
                for r in self.runs
            ],
            reopened=self.reopened,
            returned=self.returned,
            satisfaction=self.satisfaction,
            result=self.result,
            resolved_at=self.resolved_at,
            closed_at=self.closed_at,
            dispatched_at=self.dispatched_at,
            street=self.street,
            sources=[
                SourceRef.model_construct(channel=Channel(ch), external_id=ext)
                for ch, ext in self.sources
            ],
            history=[
                HistoryEntry(
                    action_id=e.action_id,
                    action=e.action,
                    actor=e.actor,
                    at=e.at,
                    detail=e.detail,
                    reason=e.reason,
                )
                for e in self.history
            ],
            updated_at=self.updated_at or self.dispatched_at,
        )


def _entry(e: Entry) -> list[Any]:
    row: list[Any] = [e.action_id, e.action, e.actor, to_us(e.at), e.detail]
    return [*row, e.reason] if e.reason is not None else row


def _unentry(raw: list[Any]) -> Entry:
    """An entry of the changelog form; entries written before reasons were kept have 5 fields."""
    action_id, action, actor, at, detail, *rest = raw
    return Entry(action_id, action, actor, from_us(at), detail, rest[0] if rest else None)


def _clock(c: Clock) -> list[Any]:
    levels = [to_us(at) for at in c.levels] if c.levels is not None else None
    return [c.unit, c.budget_s, c.used_s, opt_us(c.run_start), c.state, opt_us(c.due_at),
            opt_us(c.met_at), levels]  # fmt: skip


def _unclock(raw: list[Any]) -> Clock:
    unit, budget, used, start, state, due, met, levels = raw
    times = None
    if levels is not None:
        warning, overdue, escalated = levels
        times = (from_us(warning), from_us(overdue), from_us(escalated))
    return Clock(
        unit, budget, used, opt_from_us(start), state, opt_from_us(due), opt_from_us(met), times
    )


def _view(c: Clock) -> ClockView:
    return ClockView(
        started_at=c.run_start, due_at=c.due_at, met_at=c.met_at, state=c.state, unit=c.unit
    )
