"""The routing rules of dispatch.md (属地管理), applied in order, recording which rule decided.

1. the record's own problem location (citizen_app street, then district name,
   then code; the other channels' district field);
2. the employer's address;
3. the location address (citizen_app), the complaint text, the employer name,
   each with person names cut out first (:mod:`router.normalize.place.names`:
   李南山 is no evidence of 南山);
4. legal_stations: the station's own district.

A rule naming more than one district yields nothing. A place outside Shenzhen
found by rule 1, rule 2 or the location address of rule 3 stops the search
(``outside_jurisdiction``); free text and names never decide that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from router.normalize.place.gazetteer import Gazetteer, resolve
from router.normalize.place.names import NameCutter
from schemas.channels import Channel
from schemas.complaint import Placement, TriageReason
from schemas.records import CommonFields
from schemas.shenzhen import CODES

_STREET_SUFFIXES = ("街道办事处", "街道办", "街道", "镇")


@dataclass(frozen=True)
class _Found:
    slug: str
    street: str | None
    reason: str


@dataclass(frozen=True)
class _Outside:
    reason: str


_Verdict = _Found | _Outside | None


class Placer:
    """Places a report's case by the routing rules, deterministically."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self._gaz = gazetteer or Gazetteer()
        self._names = NameCutter(self._gaz)

    def place(
        self, channel: Channel, fields: CommonFields, station_district: str | None = None
    ) -> Placement:
        """The placement of a case opened by this report (district or triage, and why)."""
        for verdict in self._verdicts(channel, fields, station_district):
            if isinstance(verdict, _Outside):
                return Placement(
                    district=None,
                    routing_reason=verdict.reason,
                    triage_reason=TriageReason.OUTSIDE_JURISDICTION,
                )
            if isinstance(verdict, _Found):
                return Placement(
                    district=verdict.slug,
                    routing_reason=verdict.reason,
                    triage_reason=None,
                    street=verdict.street,
                )
        return Placement(
            district=None,
            routing_reason="unplaced: no rule named a single Shenzhen district",
            triage_reason=TriageReason.UNPLACED,
        )

    def _verdicts(
        self, channel: Channel, fields: CommonFields, station_district: str | None
    ) -> Iterator[_Verdict]:
        """Each rule's verdict in order, computed only when the previous yielded nothing."""
        yield self._rule1(channel, fields)
        yield self._address("rule 2: employer address", fields.employer_address)
        person = fields.person_name
        location = self._names.cut(fields.location.address, person)
        yield self._address("rule 3: location address", location)
        yield self._text("rule 3: complaint text", self._names.cut(fields.complaint_text, person))
        yield self._text("rule 3: employer name", self._names.cut(fields.employer_name, person))
        yield self._station(channel, station_district)

    # --- rules -----------------------------------------------------------------

    def _rule1(self, channel: Channel, fields: CommonFields) -> _Verdict:
        loc = fields.location
        field = "location" if channel is Channel.CITIZEN_APP else _RULE1_FIELD[channel]
        if loc.street_name:
            street = self._street(loc.street_name)
            if street is not None:
                return _Found(street[0], street[1], f"rule 1: {field} street names {street[2]}")
        if loc.district_name:
            verdict = self._address(f"rule 1: {field}", loc.district_name)
            if verdict is not None:
                return verdict
        if loc.district_code:
            slug = CODES.get(loc.district_code.strip())
            if slug is not None:
                return _Found(slug, None, f"rule 1: {field} district code {loc.district_code}")
        return None

    def _street(self, name: str) -> tuple[str, str | None, str] | None:
        entry = self._gaz.street(name)
        if entry is None:
            for suffix in _STREET_SUFFIXES:
                if name.endswith(suffix):
                    entry = self._gaz.street(name[: -len(suffix)])
                    break
        if entry is not None and entry.slug is not None:
            return entry.slug, entry.street, entry.name
        resolution = resolve(self._gaz, name)
        if resolution.slug is not None:
            return resolution.slug, resolution.street, _names(resolution.names)
        return None

    def _address(self, label: str, text: str | None) -> _Verdict:
        """An address or structured location: a district, another city, or nothing."""
        if not text:
            return None
        resolution = resolve(self._gaz, text)
        city = self._gaz.other_city(text)
        if city is not None:
            # 深汕's towns lie in 汕尾 (海丰县): 汕尾 plus one of them is still 深汕.
            if resolution.slug == "shenshan" and city == "汕尾":
                reason = f"{label} names {_names(resolution.names)}"
                return _Found("shenshan", resolution.street, reason)
            if resolution.slug is None and not resolution.ambiguous:
                return _Outside(f"outside_jurisdiction: {label} is in {city}")
            return None
        if resolution.slug is not None:
            return _Found(
                resolution.slug, resolution.street, f"{label} names {_names(resolution.names)}"
            )
        return None

    def _text(self, label: str, text: str | None) -> _Verdict:
        """Free text or a name: a district or nothing (never outside)."""
        if not text:
            return None
        resolution = resolve(self._gaz, text)
        if resolution.slug is None:
            return None
        return _Found(
            resolution.slug, resolution.street, f"{label} names {_names(resolution.names)}"
        )

    def _station(self, channel: Channel, station_district: str | None) -> _Verdict:
        if channel is not Channel.LEGAL_STATIONS or not station_district:
            return None
        resolution = resolve(self._gaz, station_district)
        if resolution.slug is None:
            return None
        return _Found(resolution.slug, None, f"rule 4: the station's district {station_district}")


_RULE1_FIELD: dict[Channel, str] = {
    Channel.PETITION_WINDOW: "所属区",
    Channel.HOTLINE_12351: "area",
    Channel.PROVINCIAL_PETITION: "WTSD",
    Channel.LEGAL_STATIONS: "none",
}


def _names(names: tuple[str, ...]) -> str:
    return "/".join(names)
