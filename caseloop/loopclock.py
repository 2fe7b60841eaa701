"""The loop's clock, and the speed knob that compresses it for tests and the demo.

At speed 1 (production) loop time is the wall clock. At speed ``s`` it runs
``s`` times faster from an ``anchor`` instant: ``loop = anchor + (wall - anchor) * s``.
The rules do not change: a case dispatched on a Friday afternoon still waits
through the weekend and the holidays of the real calendar for its working-day
deadlines, only a weekend now passes in ``2 days / s`` of wall time. Every time
the loop stores or publishes (clock starts, deadlines, action times, SLA
alerts, the figures' periods) is loop time; the dispatch events' own
``dispatched_at`` stays wall time. The anchor must stay fixed across restarts
(``UNIONHUB_LOOP_ANCHOR``), or loop time would jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import ConfigError


@dataclass(frozen=True)
class LoopClock:
    """Maps wall time to loop time (identity at speed 1)."""

    speed: float = 1.0
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ConfigError("UNIONHUB_LOOP_SPEED", "must be positive")
        if self.speed != 1 and self.anchor is None:
            raise ConfigError("UNIONHUB_LOOP_ANCHOR", "required when the loop speed is not 1")

    def at(self, wall: datetime) -> datetime:
        """The loop time of wall time ``wall``."""
        if self.speed == 1 or self.anchor is None:
            return wall
        return self.anchor + (wall - self.anchor) * self.speed

    def wall(self, loop: datetime) -> datetime:
        """The wall time at which the loop reaches ``loop`` (for scheduling a timer)."""
        if self.speed == 1 or self.anchor is None:
            return loop
        return self.anchor + (loop - self.anchor) / self.speed

    def now(self) -> datetime:
        """Loop time now."""
        return self.at(datetime.now(UTC))
