"""What a run published: the messages of a namespace's public topics, as JSON dicts.

Built from Kafka by :func:`checker.reader.read_observed`, or by hand in tests.
Values are decoded here once; a value that is not a JSON object is kept as
``None`` and counted as malformed by the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class Message:
    """One message: its topic, partition and offset, and its value as a dict (``None`` if bad).

    ``dispatch_target`` is, for a ``dispatch.*`` topic, the district slug or
    ``triage``; ``None`` for other topics.
    """

    topic: str
    partition: int
    offset: int
    value: dict[str, Any] | None
    dispatch_target: str | None = None

    @classmethod
    def decode(
        cls,
        topic: str,
        partition: int,
        offset: int,
        raw: bytes | None,
        dispatch_target: str | None = None,
    ) -> Message:
        """A message from the raw bytes of a Kafka record value."""
        try:
            value = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            value = None
        return cls(
            topic, partition, offset, value if isinstance(value, dict) else None, dispatch_target
        )


@dataclass
class Observed:
    """Every committed message of the topics the checker judges, in offset order per partition."""

    dispatch: list[Message] = field(default_factory=list)
    alerts: list[Message] = field(default_factory=list)
    dead_letters: list[Message] = field(default_factory=list)
