"""Placing a text in a Shenzhen district, per shenzhen.md and dispatch.md "Routing".

Leftmost-longest matching of district, street and place names; a match
followed by a road suffix (路, 大道, 街 but not 街道, 道, 巷, optionally after a
direction character) is a road name and no evidence. Another city written as
such (东莞市, ...) is evidence of "outside Shenzhen". A person's name is no
evidence (李南山 does not say 南山): :func:`without_names` drops names
introduced by 我叫, the one way the scenario generator writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.shenzhen import CODES, DISTRICTS, OTHER_CITIES

_INTRODUCED_NAME = re.compile(r"(?<=我叫)[\u4e00-\u9fff]{2,4}(?![\u4e00-\u9fff])")
_ROAD = re.compile(r"[东南西北中]?(?:大道|路|街(?!道)|道|巷)")


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for d in DISTRICTS:
        for name in (d.name, d.short, *d.places):
            names[name] = d.slug
        for street in d.streets:
            names[street] = d.slug
            names[street + d.street_suffix] = d.slug
    return names


NAMES = _names()
_MAX_LEN = max(len(n) for n in NAMES)
_CITIES = (*(f"{c}市" for c in OTHER_CITIES), "香港", "澳门")


@dataclass(frozen=True)
class Evidence:
    """What one text says: the Shenzhen districts it names, and whether it names another city."""

    districts: frozenset[str]
    outside: bool

    def district(self) -> str | None:
        """The one district named, or None when none or several are."""
        return next(iter(self.districts)) if len(self.districts) == 1 else None


def evidence(text: str | None) -> Evidence:
    """Districts and other cities named in ``text``."""
    if not text:
        return Evidence(frozenset(), False)
    found: set[str] = set()
    i = 0
    while i < len(text):
        match = None
        for length in range(min(_MAX_LEN, len(text) - i), 1, -1):
            if text[i : i + length] in NAMES:
                match = text[i : i + length]
                break
        if match is None:
            i += 1
            continue
        end = i + len(match)
        if not _ROAD.match(text, end):
            found.add(NAMES[match])
        i = end
    outside = any(c in text for c in _CITIES)
    return Evidence(frozenset(found), outside)


def without_names(text: str) -> str:
    """``text`` with every name introduced by 我叫 (up to four characters) blanked."""
    return _INTRODUCED_NAME.sub(lambda m: " " * len(m.group(0)), text)


def code_district(code: str | None) -> str | None:
    """The district of a national code (440307 is 龙岗 here; names decide 大鹏)."""
    return CODES.get(code or "")
