"""The version ledger: which record versions were already written, within a re-read horizon.

Upstreams serve records again (lookback and late-arrival windows, batch
revisions, retries). The ledger remembers, per upstream id, the last version
written and a time used for pruning; it lives in the connector's checkpoint,
so it is committed in the same transaction as the records it describes.
Entries older than the horizon are dropped: the connector never re-reads that
far back, so they cannot be served to it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Newer = Callable[[str, str], bool]


def newer_int(candidate: str, stored: str) -> bool:
    """Integer versions (citizen_app version, provincial BBH): strictly greater is newer."""
    return int(candidate) > int(stored)


def newer_text(candidate: str, stored: str) -> bool:
    """Fixed-format time strings (hotline update_time): lexically greater is newer."""
    return candidate > stored


def newer_time(candidate: str, stored: str) -> bool:
    """ISO-8601 times with offsets (legal_stations updated_at): a later instant is newer."""
    try:
        return datetime.fromisoformat(candidate) > datetime.fromisoformat(stored)
    except (ValueError, TypeError):
        return candidate != stored


def different(candidate: str, stored: str) -> bool:
    """Content fingerprints (petition rows): any change is a new version."""
    return candidate != stored


class VersionLedger:
    """Last written version per id, with the time each entry may be pruned against."""

    def __init__(self, newer: Newer, entries: dict[str, tuple[str, float]] | None = None) -> None:
        self._newer = newer
        self._entries: dict[str, tuple[str, float]] = dict(entries or {})

    def is_new(self, external_id: str, version: str) -> bool:
        """True when ``version`` of ``external_id`` has not been written (and is not older)."""
        stored = self._entries.get(external_id)
        return stored is None or self._newer(version, stored[0])

    def record(self, external_id: str, version: str, at: float) -> None:
        """Remember that ``version`` was written; ``at`` is the record's time (epoch s)."""
        self._entries[external_id] = (version, at)

    def prune(self, horizon: float) -> None:
        """Forget entries whose time is before ``horizon`` (epoch seconds)."""
        self._entries = {k: v for k, v in self._entries.items() if v[1] >= horizon}

    def copy(self) -> VersionLedger:
        """An independent copy, to change tentatively before a commit."""
        return VersionLedger(self._newer, self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def to_json(self) -> dict[str, list[Any]]:
        """JSON-able form for the checkpoint."""
        return {k: [v, at] for k, (v, at) in self._entries.items()}

    @classmethod
    def from_json(cls, newer: Newer, data: Any) -> VersionLedger:
        """Rebuild from :meth:`to_json` output (an empty ledger for None)."""
        entries: dict[str, tuple[str, float]] = {}
        if isinstance(data, dict):
            for key, value in data.items():
                entries[str(key)] = (str(value[0]), float(value[1]))
        return cls(newer, entries)


class DeadLetterMemory:
    """Fingerprints of records already dead-lettered, so a re-read does not repeat them."""

    def __init__(self, entries: dict[str, float] | None = None) -> None:
        self._entries: dict[str, float] = dict(entries or {})

    @staticmethod
    def fingerprint(raw: str | bytes) -> str:
        """A short stable fingerprint of a record's raw text."""
        data = raw.encode() if isinstance(raw, str) else raw
        return hashlib.sha256(data).hexdigest()[:24]

    def first_time(self, raw: str | bytes, at: float) -> bool:
        """True (and remembered) the first time ``raw`` is seen; False on a repeat."""
        key = self.fingerprint(raw)
        if key in self._entries:
            return False
        self._entries[key] = at
        return True

    def prune(self, horizon: float) -> None:
        """Forget fingerprints remembered with a time before ``horizon``."""
        self._entries = {k: at for k, at in self._entries.items() if at >= horizon}

    def copy(self) -> DeadLetterMemory:
        """An independent copy."""
        return DeadLetterMemory(self._entries)

    def to_json(self) -> dict[str, float]:
        """JSON-able form for the checkpoint."""
        return dict(self._entries)

    @classmethod
    def from_json(cls, data: Any) -> DeadLetterMemory:
        """Rebuild from :meth:`to_json` output."""
        if not isinstance(data, dict):
            return cls()
        return cls({str(k): float(v) for k, v in data.items()})


@dataclass
class WatermarkState:
    """A windowed channel's checkpoint: watermark, version ledger, dead-lettered fingerprints.

    Everything before ``watermark`` was read at least once (and, for
    ``provincial_petition``, is final); the ledger over the re-read horizon
    recognises versions written already.
    """

    newer: Callable[[str, str], bool]
    watermark: str | None = None
    ledger: VersionLedger = field(init=False)
    dead: DeadLetterMemory = field(default_factory=DeadLetterMemory)

    def __post_init__(self) -> None:
        self.ledger = VersionLedger(self.newer)

    def copy(self) -> WatermarkState:
        """An independent copy to change before a commit."""
        state = WatermarkState(self.newer, self.watermark, self.dead.copy())
        state.ledger = self.ledger.copy()
        return state

    def to_json(self) -> dict[str, Any]:
        """Checkpoint form."""
        return {
            "watermark": self.watermark,
            "ledger": self.ledger.to_json(),
            "dead": self.dead.to_json(),
        }

    @classmethod
    def from_json(
        cls, newer: Callable[[str, str], bool], data: dict[str, Any] | None
    ) -> WatermarkState:
        """From a checkpoint (fresh for None)."""
        state = cls(newer)
        if data:
            state.watermark = data.get("watermark")
            state.ledger = VersionLedger.from_json(newer, data.get("ledger"))
            state.dead = DeadLetterMemory.from_json(data.get("dead"))
        return state
