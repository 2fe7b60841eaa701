"""``PartitionState``: everything the runtime keeps about one input partition, in one place.

A partition's entry appears when it is assigned and goes, all of it, when the
partition is forgotten (revoked, or no longer assigned while being set up).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from core.kafka.reading import Record


@dataclass(frozen=True)
class Poison:
    """A record that failed alone: the next attempt dead-letters it instead of processing it."""

    offset: int
    cause: BaseException
    kind: str


@dataclass
class PartitionState:
    """One input partition: set-up, progress, held records and failures.

    ``pending_until`` is the loop time from which the partition may be set up
    (producer started, position at the committed offset, state restored);
    None once it is ready. ``expected`` is the next offset to process (None
    before the first set-up), ``position`` the consumer's position when all
    consumed was processed (past transaction markers, which ``expected`` never
    sees). ``held`` are fetched records waiting for their transaction (linger),
    since ``held_since``. ``failures`` counts failures in a row (for the
    back-off); up to ``careful_until`` records go one per transaction;
    ``poison`` is dead-lettered on the next attempt.
    """

    pending_until: float | None = None
    expected: int | None = None
    position: int = 0
    held: list[Record] = field(default_factory=list)
    held_since: float | None = None
    failures: int = 0
    careful_until: int = -1
    poison: Poison | None = None

    @property
    def pending(self) -> bool:
        """True while the partition waits to be set up (it is paused meanwhile)."""
        return self.pending_until is not None

    def due(self, now: float) -> bool:
        """True when the partition is pending and its set-up may start at ``now``."""
        return self.pending_until is not None and self.pending_until <= now

    @property
    def holding(self) -> bool:
        """True while fetched records wait here for their transaction."""
        return self.held_since is not None

    def hold(self, records: Sequence[Record], now: float) -> None:
        """Add fetched ``records``; a fetch that goes back (after a seek) replaces the held ones."""
        if self.held and records and records[0].offset <= self.held[-1].offset:
            self.release()
        if self.held_since is None:
            self.held = list(records)
            self.held_since = now
        else:
            self.held.extend(records)

    def release(self) -> None:
        """Hold nothing any more (the list handed out before stays as it was)."""
        self.held = []
        self.held_since = None

    def committed_through(self, last: int) -> None:
        """Record a committed transaction ending at offset ``last``."""
        self.expected = last + 1
        self.failures = 0
        if self.careful_until <= last:
            self.careful_until = -1
        if self.poison is not None and self.poison.offset <= last:
            self.poison = None


class Partitions(dict[TopicPartition, PartitionState]):
    """The stage's :class:`PartitionState` per input partition."""

    def entry(self, tp: TopicPartition) -> PartitionState:
        """``tp``'s state, created empty if nothing was known of it yet."""
        return self.setdefault(tp, PartitionState())

    def forget(self, tp: TopicPartition) -> None:
        """Drop everything known of ``tp`` (revoked, or no longer assigned)."""
        self.pop(tp, None)

    def pending(self) -> list[TopicPartition]:
        """Partitions waiting to be set up."""
        return [tp for tp, entry in self.items() if entry.pending]

    def holding(self) -> bool:
        """True when some partition holds fetched records."""
        return any(entry.holding for entry in self.values())


def partition_name(tp: TopicPartition) -> str:
    """``topic-partition``, as in logs and status."""
    return f"{tp.topic}-{tp.partition}"


def partition_names(tps: Iterable[TopicPartition]) -> list[str]:
    """:func:`partition_name` of each of ``tps``, sorted."""
    return sorted(partition_name(tp) for tp in tps)
