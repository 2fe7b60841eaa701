"""Scenario time: seconds from the anchor mapped to wall-clock times, and CST renderings.

Scenario time is counted in seconds from the anchor (negative: backlog). The
live part's times are compressed by ``speed`` when mapped to wall-clock time,
so its records carry the times at which they are actually released.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
LIVE_SPAN_S = 3600  # scenario seconds of the live part (released over LIVE_SPAN_S / speed)


class Clock:
    """Maps scenario seconds to wall-clock times (live part compressed by ``speed``)."""

    def __init__(self, anchor: datetime, speed: float) -> None:
        self.anchor = anchor
        self.speed = speed

    def at(self, s: float) -> datetime:
        """Wall-clock time of scenario second ``s`` (whole seconds)."""
        real = s if s < 0 else s / self.speed
        return self.anchor + timedelta(seconds=int(real // 1))

    def inverse(self, t: datetime) -> float:
        """Scenario second of wall-clock time ``t``."""
        real = (t - self.anchor).total_seconds()
        return real if real < 0 else real * self.speed


def cst(t: datetime) -> datetime:
    """``t`` in China Standard Time."""
    return t.astimezone(CST)


def iso_cst(t: datetime) -> str:
    """``2025-05-23T14:05:09+08:00``."""
    return cst(t).isoformat(timespec="seconds")


def plain_cst(t: datetime) -> str:
    """``2025-05-23 14:05:09`` (local time, no offset)."""
    return cst(t).strftime("%Y-%m-%d %H:%M:%S")
