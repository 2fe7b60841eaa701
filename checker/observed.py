"""What a run published: the messages of a namespace's public topics, as JSON dicts.

Built from Kafka by :func:`checker.reader.read_observed` (and, for the case loop's
topics, :func:`checker.loop.reader.read_loop_observed`), or by hand in tests.
Values are decoded here once; a value that is not a JSON object is kept as
``None`` and counted as malformed by the comparison, unless the record had no
value at all (a tombstone of the compacted ``cases.state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class Message:
    """One message: its topic, partition and offset, and its value as a dict (``None`` if bad).

    ``dispatch_target`` is, for a ``dispatch.*`` topic, the district slug or
    ``triage``; ``None`` for other topics. ``key`` is the record key as text
    (kept for the compacted ``cases.state``); ``tombstone`` says the record had
    no value.
    """

    topic: str
    partition: int
    offset: int
    value: dict[str, Any] | None
    dispatch_target: str | None = None
    key: str | None = None
    tombstone: bool = False

    @classmethod
    def decode(
        cls,
        topic: str,
        partition: int,
        offset: int,
        raw: bytes | None,
        dispatch_target: str | None = None,
        key: bytes | None = None,
    ) -> Message:
        """A message from the raw bytes of a Kafka record value (and key)."""
        try:
            value = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            value = None
        return cls(
            topic,
            partition,
            offset,
            value if isinstance(value, dict) else None,
            dispatch_target,
            key.decode("utf-8", "replace") if key is not None else None,
            raw is None,
        )

    @property
    def source(self) -> str:
        """``<topic>-<partition>-<offset>``, as dead letters name where a record was read."""
        return f"{self.topic}-{self.partition}-{self.offset}"


@dataclass
class Observed:
    """Every committed message of the topics the checker judges, in offset order per partition."""

    dispatch: list[Message] = field(default_factory=list)
    alerts: list[Message] = field(default_factory=list)
    dead_letters: list[Message] = field(default_factory=list)
    # The case loop's topics (empty for a run read without them).
    actions: list[Message] = field(default_factory=list)  # cases.actions.<actor>
    case_states: list[Message] = field(default_factory=list)  # cases.state, tombstones too
    sla_alerts: list[Message] = field(default_factory=list)  # alerts.sla
