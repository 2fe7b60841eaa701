"""A circuit breaker per upstream endpoint, so a dead one costs nothing while it is down.

Closed: calls go through. After ``threshold`` consecutive failures it opens
for a cool-down that doubles on every failed probe (up to a cap); once the
cool-down passes one probe call is let through (half-open): success closes
it, failure opens it again. Time is passed in (monotonic seconds), so the
breaker itself never sleeps and is tested without clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Counts consecutive failures and decides whether the next call may go out."""

    threshold: int = 3
    cooldown_s: float = 15.0
    max_cooldown_s: float = 300.0
    failures: int = 0
    open_until: float = 0.0
    current_cooldown_s: float = 0.0
    state: BreakerState = BreakerState.CLOSED

    def allow(self, now: float) -> bool:
        """True when a call may go out at ``now`` (a probe when the cool-down is over)."""
        if self.state is BreakerState.OPEN and now >= self.open_until:
            self.state = BreakerState.HALF_OPEN
            return True
        return self.state is not BreakerState.OPEN

    def success(self) -> None:
        """A call succeeded: close."""
        self.failures = 0
        self.current_cooldown_s = 0.0
        self.state = BreakerState.CLOSED

    def failure(self, now: float) -> None:
        """A call failed at ``now``: open after ``threshold`` in a row, or when probing."""
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.current_cooldown_s = min(
                self.max_cooldown_s,
                self.current_cooldown_s * 2 if self.current_cooldown_s else self.cooldown_s,
            )
            self.open_until = now + self.current_cooldown_s
            self.state = BreakerState.OPEN
