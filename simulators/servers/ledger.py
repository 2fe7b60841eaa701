"""The reply endpoints' idempotency ledger: the judge of "exactly once from the upstream's side"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from simulators.scenario.model import RecordVersion


@dataclass(frozen=True)
class Reply:
    """One reply the upstream took: which record, under which key, what it said."""

    channel: str
    external_id: str
    key: str
    kind: str  # resolved | closed (citizen_app); feedback (hotline_12351)
    result: str
    text: str
    at: datetime
    version: str  # the record version it created


@dataclass
class ReplyLedger:
    """Every reply taken, per channel and key; and every answer given, by outcome."""

    taken: dict[str, dict[tuple[str, str], Reply]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)  # "<channel>.<outcome>"
    made: set[tuple[str, str, str]] = field(default_factory=set)  # versions replies created

    def seen(self, channel: str, external_id: str, key: str) -> bool:
        """Whether ``key`` was already taken for this record (answer it as a success)."""
        return (external_id, key) in self.taken.get(channel, {})

    def take(self, reply: Reply) -> None:
        """Record a new reply and the version it created."""
        self.taken.setdefault(reply.channel, {})[(reply.external_id, reply.key)] = reply
        self.made.add((reply.channel, reply.external_id, reply.version))

    def answered(self, channel: str, outcome: str) -> None:
        """Count one answer (``taken``, ``repeat``, ``unknown``, ``closed``, ``invalid``...)."""
        self.answers[f"{channel}.{outcome}"] += 1

    def replies(self, channel: str) -> list[Reply]:
        """Every reply ``channel`` took, in the order taken."""
        return list(self.taken.get(channel, {}).values())

    def by_reply(self, version: RecordVersion) -> bool:
        """Whether ``version`` was created by a reply (not by the upstream's own process)."""
        return (version.channel.value, version.external_id, version.version) in self.made
