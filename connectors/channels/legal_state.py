"""One legal-service station's checkpoint: where its listing resumes and what it already wrote.

Every station has its own (key ``<connector>/<station_id>``), so a station
that was down resumes from where it stopped while the others move on. Kept
apart from the source (:mod:`connectors.channels.legal_stations`): this is the
checkpoint's shape and its JSON form, the source is when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.ledger import VersionLedger, newer_time

FIRST_CURSOR = "2000-01-01T00:00:00+08:00"  # "everything": before any case was opened


@dataclass
class StationState:
    """One station's cursor, the ETag of the query at that cursor, ledger, dead rows.

    ``resume_url`` is the ``next`` link of a listing left mid-way: cases sharing
    the last second of a page can continue on the next page, which only that
    link (not ``updated_after``, exclusive) reaches.
    """

    updated_after: str = FIRST_CURSOR
    etag: str | None = None
    etag_after: str | None = None
    ledger: VersionLedger = field(default_factory=lambda: VersionLedger(newer_time))
    dead: list[str] = field(default_factory=list)
    resume_url: str | None = None

    def copy(self) -> StationState:
        """An independent copy to change before a commit."""
        return StationState(
            self.updated_after,
            self.etag,
            self.etag_after,
            self.ledger.copy(),
            list(self.dead),
            self.resume_url,
        )

    def to_json(self) -> dict[str, Any]:
        """Checkpoint form."""
        return {
            "updated_after": self.updated_after,
            "etag": self.etag,
            "etag_after": self.etag_after,
            "ledger": self.ledger.to_json(),
            "dead": self.dead,
            "resume_url": self.resume_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> StationState:
        """From a checkpoint (fresh for None)."""
        if not data:
            return cls()
        return cls(
            str(data.get("updated_after") or FIRST_CURSOR),
            data.get("etag"),
            data.get("etag_after"),
            VersionLedger.from_json(newer_time, data.get("ledger")),
            [str(x) for x in data.get("dead") or []],
            data.get("resume_url"),
        )
