"""Exact times in state: integer microseconds since the epoch (UTC), so comparisons are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(at: datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime."""
    return (at - EPOCH) // _MICROSECOND


def from_us(us: int) -> datetime:
    """The UTC datetime of :func:`to_us`."""
    return EPOCH + timedelta(microseconds=us)


def opt_us(at: datetime | None) -> int | None:
    """:func:`to_us`, keeping None."""
    return None if at is None else to_us(at)


def opt_from_us(us: int | None) -> datetime | None:
    """:func:`from_us`, keeping None."""
    return None if us is None else from_us(us)
