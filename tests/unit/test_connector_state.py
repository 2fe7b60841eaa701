"""Version ledger, circuit breaker, and the window arithmetic of the time-windowed channels."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.breaker import BreakerState, CircuitBreaker
from connectors.channels.common import CST
from connectors.channels.hotline_12351 import windows
from connectors.channels.provincial_petition import aligned_windows
from connectors.ledger import (
    DeadLetterMemory,
    VersionLedger,
    different,
    newer_int,
    newer_text,
    newer_time,
)


def test_ledger_recognises_written_and_older_versions() -> None:
    ledger = VersionLedger(newer_int)
    assert ledger.is_new("A", "1")
    ledger.record("A", "3", at=100)
    assert not ledger.is_new("A", "3")
    assert not ledger.is_new("A", "2")
    assert ledger.is_new("A", "10")  # integer, not lexical, comparison


def test_ledger_comparators() -> None:
    assert newer_text("2025-05-23 14:20:42", "2025-05-23 14:20:41")
    assert newer_time("2025-06-02T02:30:01+00:00", "2025-06-02T09:30:00+08:00")
    assert not newer_time("2025-06-02T01:30:00+00:00", "2025-06-02T09:30:00+08:00")
    assert different("abc", "abd")
    assert not different("abc", "abc")


def test_ledger_prunes_by_time_and_survives_json() -> None:
    ledger = VersionLedger(newer_int)
    ledger.record("old", "1", at=10)
    ledger.record("new", "2", at=50)
    copy = ledger.copy()
    ledger.prune(horizon=20)
    assert len(ledger) == 1
    assert len(copy) == 2
    restored = VersionLedger.from_json(newer_int, ledger.to_json())
    assert not restored.is_new("new", "2")
    assert restored.is_new("old", "1")


def test_breaker_opens_after_threshold_and_probes_after_cooldown() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, max_cooldown_s=25)
    for t in (0, 1):
        breaker.failure(t)
        assert breaker.allow(t)
    breaker.failure(2)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(11.9)
    assert breaker.allow(12)
    assert str(breaker.state) == "half_open"  # (mypy narrows the attribute)
    breaker.failure(12)  # failed probe: open again, longer
    assert not breaker.allow(31.9)
    assert breaker.allow(32)
    breaker.failure(32)
    assert breaker.open_until == 32 + 25  # capped
    assert breaker.allow(57)
    breaker.success()
    assert str(breaker.state) == "closed"
    assert breaker.allow(57)


def test_hotline_windows_are_at_most_a_day_and_contiguous() -> None:
    start = datetime(2025, 5, 1, 10, 0, tzinfo=CST)
    end = start + timedelta(days=2, hours=5)
    parts = windows(start, end)
    assert parts[0][0] == start
    assert parts[-1][1] == end
    assert all(b - a <= timedelta(hours=24) for a, b in parts)
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))


def test_provincial_windows_are_aligned_and_end_at_now() -> None:
    start = datetime(2025, 5, 23, 14, 17, 5, tzinfo=CST)
    now = datetime(2025, 5, 23, 17, 30, 0, tzinfo=CST)
    parts = aligned_windows(start, now, timedelta(hours=1))
    assert parts[0] == (
        datetime(2025, 5, 23, 14, 0, tzinfo=CST),
        datetime(2025, 5, 23, 15, 0, tzinfo=CST),
    )
    assert parts[-1] == (datetime(2025, 5, 23, 17, 0, tzinfo=CST), now)
    assert len(parts) == 4


def test_dead_letter_memory_remembers_until_pruned() -> None:
    memory = DeadLetterMemory()
    assert memory.first_time("row", at=10)
    assert not memory.first_time("row", at=11)
    assert memory.first_time(b"other", at=30)
    restored = DeadLetterMemory.from_json(memory.to_json())
    restored.prune(horizon=20)
    assert restored.first_time("row", at=40)
    assert not restored.first_time(b"other", at=40)
