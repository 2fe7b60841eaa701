"""Counters and readiness of a running stage, for health checks and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StageCounters:
    """Monotonic counters of one stage since the process started."""

    records_in: int = 0
    records_out: int = 0
    dead_letters: int = 0
    transactions: int = 0
    aborts: int = 0
    producers_recreated: int = 0
    restores: int = 0
    records_restored: int = 0
    punctuations: int = 0  # looks at what time made due (SLA alerts), with or without any


@dataclass(frozen=True)
class StageStatus:
    """A snapshot of one stage: readiness, ownership, counters, state size and lag.

    ``ready`` means the consumer is in its group, the broker answered the last
    request, and every owned partition has its producer started and (for a
    stateful stage) its state restored. A member that owns nothing (a standby of
    a one-partition stage) is ready too; ``role`` tells which it is.
    """

    stage: str
    running: bool
    ready: bool
    broker_reachable: bool
    role: str  # "active", "standby", "starting", "stopped"
    owned: tuple[str, ...]
    pending: tuple[str, ...]
    counters: StageCounters = field(default_factory=StageCounters)
    state_size: int | None = None
    lag: int | None = None
