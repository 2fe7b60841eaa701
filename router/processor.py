"""What a router stage is to the exactly-once runtime: records in, outputs and state changes out.

The runtime (``router.runtime``) owns Kafka: it consumes with read_committed,
calls :meth:`Processor.process` per record, and commits the outputs, the
state changes (:meth:`StatefulProcessor.take_changes`, written to the stage's
compacted changelog) and the consumed offsets in one transaction. Before a
stateful stage processes anything it replays the changelog through
:meth:`StatefulProcessor.restore` (a :class:`CheckpointedProcessor` keeps its
state in a local store and gets only the tail after its checkpoint). A
processor never touches Kafka itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable


@dataclass(frozen=True)
class InputRecord:
    """One consumed record, as the runtime hands it to a processor."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int


@dataclass(frozen=True)
class Output:
    """One record a processor wants written, inside the current transaction."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    delete: bool = False  # a tombstone (null value) for ``key`` on a compacted topic

    @classmethod
    def tombstone(cls, topic: str, key: bytes) -> Output:
        """The record that deletes ``key`` from compacted ``topic``."""
        return cls(topic, key, b"", delete=True)

    @property
    def payload(self) -> bytes | None:
        """The value as written to Kafka (None for a tombstone)."""
        return None if self.delete else self.value


class Processor(Protocol):
    """A stateless stage: each input record maps to zero or more outputs."""

    def process(self, record: InputRecord) -> list[Output]:
        """Outputs for ``record``; must not raise for bad data (emit a dead letter instead)."""
        ...


class StatefulProcessor(Processor, Protocol):
    """A stage with state kept in a compacted changelog topic."""

    def restore(self, key: bytes, value: bytes | None) -> None:
        """Apply one changelog record (``None`` is a tombstone), in changelog order."""
        ...

    def take_changes(self) -> list[tuple[bytes, bytes | None]]:
        """Changelog writes accumulated since the last call, and forget them."""
        ...

    def discard_changes(self) -> None:
        """Forget uncommitted state changes after an aborted transaction.

        The runtime then rebuilds state by replaying the changelog through
        ``restore`` (after ``reset``), so in-memory state matches what was committed.
        """
        ...

    def reset(self) -> None:
        """Drop all state, before a full restore."""
        ...


@runtime_checkable
class PunctuatingProcessor(Protocol):
    """A stage that also acts on the passing of time (Kafka Streams' punctuator).

    The runtime calls :meth:`punctuate` every ``StageConfig.punctuate_every_s``
    while it owns the stage's partition and the state is restored, and commits
    its outputs and state changes in one transaction of their own.
    """

    def punctuate(self) -> list[Output]:
        """Outputs that time has made due (the processor reads the clock itself)."""
        ...


class CheckpointedProcessor(StatefulProcessor, Protocol):
    """A stateful stage whose state lives in a local store that survives restarts.

    The store holds the COMMITTED state only, with the changelog offsets it
    has applied (its checkpoint): the runtime replays just the changelog tail
    after the checkpoint, and tells the processor when its changes (or the
    replayed records) are committed. Then ``discard_changes`` keeps the store
    and ``reset`` empties it (before a full replay).
    """

    def checkpoint(self) -> dict[int, int] | None:
        """Changelog partition -> next offset the store has applied; None: replay everything."""
        ...

    def committed(self, changelog_ends: dict[int, int]) -> None:
        """Changes taken (or records restored) so far are committed; the log is at these ends.

        ``changelog_ends`` maps partition -> one past the last committed record
        (partitions not written are left out).
        """
        ...

    def live_keys(self) -> int:
        """Live changelog keys in the committed state (the state-size gauge)."""
        ...

    def replayed(self) -> None:
        """The changelog replay is over: finish what it left (a bulk load's indexes)."""
        ...


def checkpointed(processor: object) -> CheckpointedProcessor | None:
    """``processor`` as a :class:`CheckpointedProcessor`, or None if it has no local store."""
    names = ("checkpoint", "committed", "live_keys", "replayed")
    if all(callable(getattr(processor, name, None)) for name in names):
        return cast(CheckpointedProcessor, processor)
    return None
