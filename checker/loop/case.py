"""One case as the checker expects it to be, and the state changes the loop makes to it.

:class:`CaseTruth` is mutable: :mod:`checker.loop.truth` replays the inputs
over it in time order. Each method is one step of caseloop.md's table; which
step fits which state is decided by the replay, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from checker.loop.clock import Clock
from checker.loop.rules import (
    CLOCKS,
    CONTACT,
    EMERGENCY,
    LIMITS,
    RESOLVE,
)
from checker.loop.workdays import WorkingDays

DISPATCHED, ACCEPTED, IN_PROGRESS = "dispatched", "accepted", "in_progress"
SUSPENDED, RESOLVED, RETURNED, CLOSED = "suspended", "resolved", "returned", "closed"
DONE = frozenset({RESOLVED, CLOSED})

AlertKey = tuple[str, str, int]  # (clock, level, restart)


@dataclass
class Run:
    """One run of the resolve clock: the first, one per reopening, one per assignment."""

    started: datetime
    due: datetime | None
    resolved: datetime | None = None
    abandoned: bool = False  # ended by a return, never resolved


@dataclass(frozen=True)
class Applied:
    """An action applied to the case; ``detail`` as the contract's history has it (a
    visit's answer, a resolve's result, the returning district)."""

    action_id: str
    action: str
    actor: str
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class ExpectedAlert:
    """An ``alerts.sla`` record the run must hold: its key, its true time, what it says.

    ``optional``: reached so close to the evaluation time that the router may
    not have raised it yet.
    """

    case_id: str
    clock: str
    level: str
    restart: int
    level_at: datetime
    due_at: datetime | None
    district: str | None
    urgency: str
    category: str
    optional: bool = False

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(case, clock, level, restart): raised exactly once."""
        return (self.case_id, self.clock, self.level, self.restart)


@dataclass
class CaseTruth:
    """Everything the checker expects of one case."""

    case_id: str
    category: str
    district: str | None
    urgency: str
    dispatched_at: datetime  # the first dispatch, or the last assignment
    sources: frozenset[tuple[str, str]]
    status: str = DISPATCHED
    clocks: dict[str, Clock] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    restart: int = 0  # clock runs begun anew: reopenings, and assignments of a case with clocks
    reopened: int = 0
    returned: int = 0
    before_suspend: str | None = None
    satisfaction: str | None = None
    result: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    ended_at: datetime | None = None  # merged into another case: no state any more
    history: list[Applied] = field(default_factory=list)
    loop_events: list[tuple[datetime, str]] = field(default_factory=list)  # reopen, auto_close
    visits: list[tuple[datetime, str]] = field(default_factory=list)
    reopenings: list[datetime] = field(default_factory=list)
    returns: list[tuple[datetime, str]] = field(default_factory=list)  # (when, who returned it)
    raised: set[AlertKey] = field(default_factory=set)

    @property
    def applied_ids(self) -> set[str]:
        """The ids of the actions applied."""
        return {a.action_id for a in self.history}

    def alert(self, clock: str, level: str, at: datetime, *, optional: bool) -> ExpectedAlert:
        """The expected alert of (clock, level) of the current restart, reached at ``at``."""
        self.raised.add((clock, level, self.restart))
        running = self.clocks.get(clock)
        return ExpectedAlert(
            self.case_id,
            clock,
            level,
            self.restart,
            at,
            running.due if running is not None else None,
            self.district,
            self.urgency,
            self.category,
            optional,
        )

    # --- steps -------------------------------------------------------------------------

    def start_clocks(self, cal: WorkingDays, at: datetime) -> None:
        """Every clock anew from ``at`` (a dispatch into a district, an assignment)."""
        limits = LIMITS[self.urgency]
        self.clocks = {name: Clock.start(cal, limits[name], at) for name in CLOCKS}
        self.runs.append(Run(at, self.clocks[RESOLVE].due))

    def reopen(self, cal: WorkingDays, at: datetime) -> None:
        """Back in progress with a new resolve clock (a dissatisfied visit, a new report)."""
        self.restart += 1
        self.reopened += 1
        self.reopenings.append(at)
        self.clocks[RESOLVE] = Clock.start(cal, LIMITS[self.urgency][RESOLVE], at)
        self.runs.append(Run(at, self.clocks[RESOLVE].due))
        self.status, self.resolved_at, self.closed_at = IN_PROGRESS, None, None

    def resolve(self, at: datetime, result: str | None) -> None:
        """办结: resolve met, contact too if not yet."""
        for name in (RESOLVE, CONTACT):
            if name in self.clocks:
                self.clocks[name].meet(at)
        if self.runs and self.runs[-1].resolved is None:
            self.runs[-1].resolved = at
        self.status, self.resolved_at, self.result = RESOLVED, at, result

    def suspend(self, cal: WorkingDays, at: datetime) -> None:
        """The resolve clock pauses with its time left."""
        if RESOLVE in self.clocks:
            self.clocks[RESOLVE].pause(cal, at)
        self.before_suspend, self.status = self.status, SUSPENDED
        self.sync_run()

    def resume(self, cal: WorkingDays, at: datetime) -> None:
        """The resolve clock runs again; the case is back where it was."""
        if RESOLVE in self.clocks:
            self.clocks[RESOLVE].resume(cal, at)
        self.status, self.before_suspend = self.before_suspend or IN_PROGRESS, None
        self.sync_run()

    def give_back(self, cal: WorkingDays, at: datetime, actor: str) -> None:
        """退回 by ``actor``: into triage, every clock stopped."""
        for clock in self.clocks.values():
            clock.pause(cal, at, final=True)
        if self.runs and self.runs[-1].resolved is None:
            self.runs[-1].abandoned = True
        self.returns.append((at, actor))
        self.status, self.district = RETURNED, None
        self.returned += 1

    def assign(self, cal: WorkingDays, at: datetime, district: str) -> None:
        """The city desk places the case in ``district``; its clocks start anew there."""
        self.restart += 1 if self.clocks else 0
        self.district, self.dispatched_at, self.status = district, at, DISPATCHED
        self.start_clocks(cal, at)

    def become_emergency(self, cal: WorkingDays, at: datetime) -> None:
        """An open risk alert took the case in: every open clock gets the shorter limit."""
        if self.urgency == EMERGENCY:
            return
        self.urgency = EMERGENCY
        for name, clock in self.clocks.items():
            clock.shorten(cal, at, LIMITS[EMERGENCY][name])
        self.sync_run()

    def sync_run(self) -> None:
        """The current resolve run's deadline as its clock has it now."""
        clock = self.clocks.get(RESOLVE)
        if clock is not None and self.runs and self.runs[-1].resolved is None:
            self.runs[-1].due = clock.due
