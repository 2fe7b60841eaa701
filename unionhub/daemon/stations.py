"""Per-station view of a legal_stations connector, observed from its breakers each round.

The source keeps one circuit breaker per station: after a station's poll it
is CLOSED with no failures if the poll succeeded, and counts a failure
otherwise. So when a round ends (the source's ``last_round_s`` changes), each
station's breaker says how its poll in that round went. Sources of other
channels have no stations and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class StationView:
    """What the daemon knows of one station."""

    last_success_at: datetime | None = None
    records: int = 0
    failed_rounds: int = 0
    breaker_open: bool = False
    consecutive_failures: int = 0


@dataclass
class StationObserver:
    """Station views by connector, updated once per completed round."""

    views: dict[str, dict[str, StationView]] = field(default_factory=dict)
    _rounds: dict[str, float | None] = field(default_factory=dict)

    def observe(self, connector: str, source: Any, now: datetime) -> None:
        """Look at ``source``'s breakers if it finished a round since the last look."""
        breakers = getattr(source, "breakers", None)
        if not isinstance(breakers, dict):
            return
        views = self.views.setdefault(connector, {})
        last_round = getattr(source, "last_round_s", None)
        round_ended = last_round is not None and last_round != self._rounds.get(connector)
        self._rounds[connector] = last_round
        records = getattr(source, "station_records", {})
        for station, breaker in breakers.items():
            view = views.setdefault(str(station), StationView())
            view.records = int(records.get(station, 0))
            failures = int(getattr(breaker, "failures", 0))
            view.breaker_open = str(getattr(breaker, "state", "")) == "OPEN"
            view.consecutive_failures = failures
            if round_ended:
                if failures == 0 and not view.breaker_open:
                    view.last_success_at = now
                else:
                    view.failed_rounds += 1

    def forget(self, connector: str) -> None:
        """Drop a removed connector's stations."""
        self.views.pop(connector, None)
        self._rounds.pop(connector, None)
