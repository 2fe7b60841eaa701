"""The legal_stations registry: what a station is, and the registry listing read as untrusted input.

The registry is the one call that tells the connector which station boxes
exist; its entries are validated one by one, so a hostile or broken entry is
skipped and costs no other station. Kept apart from the source
(:mod:`connectors.channels.legal_stations`), which only decides when to read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.channels.common import json_body
from connectors.errors import MalformedResponseError
from schemas.raw import StationRef


@dataclass(frozen=True)
class Station:
    """A registry entry."""

    station_id: str
    name: str
    district: str
    base_url: str

    @property
    def ref(self) -> StationRef:
        """The envelope's station reference."""
        return StationRef(station_id=self.station_id, name=self.name, district=self.district)


@dataclass(frozen=True)
class RegistryListing:
    """The stations of a registry response, by id, and how many entries were unusable."""

    stations: dict[str, Station]
    skipped: int


def parse_registry(body: bytes) -> RegistryListing:
    """The stations of a registry body; :class:`MalformedResponseError` unless a JSON list."""
    data = json_body(body, "legal_stations registry")
    if not isinstance(data, list):
        raise MalformedResponseError("legal_stations registry: not a JSON list")
    stations: dict[str, Station] = {}
    skipped = 0
    for entry in data:
        station = station_of(entry)
        if station is None:
            skipped += 1
            continue
        stations[station.station_id] = station
    return RegistryListing(stations, skipped)


def station_of(entry: object) -> Station | None:
    """The registry entry as a station; None without a text station_id and an http(s) base_url.

    Only text is taken: ``str()`` of an arbitrary JSON value may be huge or, for
    one nested a thousand deep, raise ``RecursionError``.
    """
    if not isinstance(entry, dict):
        return None
    station_id, base_url = entry.get("station_id"), entry.get("base_url")
    if not isinstance(station_id, str | int) or isinstance(station_id, bool):
        return None
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        return None
    name, district = entry.get("name"), entry.get("district")
    return Station(
        str(station_id),
        name if isinstance(name, str) else "",
        district if isinstance(district, str) else "",
        base_url,
    )
