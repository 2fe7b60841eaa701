"""Knobs of one simulator run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SimulatorOptions:
    """What to generate and how to serve it.

    ``anchor`` is the wall-clock "now" of the scenario (the end of the backlog,
    the start of the live part); ``None`` means the moment the simulators start.
    Two runs with the same options and the same anchor serve byte-identical data.
    """

    seed: int = 1
    incidents: int = 100  # scenario size
    stations: int = 262  # legal-service stations in the registry
    live_fraction: float = 0.3  # share of incidents (so, roughly, of versions) released live
    speed: float = 1.0  # the live hour is released over 3600 / speed wall seconds
    fault_rate: float = 0.05  # probability of a fault per request; 0 = none
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    anchor: datetime | None = None
    backlog_days: float = 7.0  # how far back the backlog's report times reach
    station_outage_s: float = 120.0  # a down legal station stays down this long / speed
    credentials: tuple[tuple[str, str], ...] = ()  # overrides, e.g. (("hotline_app_key", "hub"),)

    def __post_init__(self) -> None:
        if self.incidents < 0 or self.stations < 11:
            raise ValueError("incidents must be >= 0 and stations >= 11 (one per district)")
        if not 0.0 <= self.live_fraction <= 1.0 or not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("live_fraction and fault_rate must lie in [0, 1]")
        if self.speed <= 0 or self.backlog_days < 0.25:
            raise ValueError("speed must be > 0 and backlog_days >= 0.25")
        if self.anchor is not None and self.anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
