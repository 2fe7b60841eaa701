"""The gazetteer of Shenzhen: district, street and place names, matched longest-first.

Built from :mod:`schemas.shenzhen` plus :data:`EXTRA_PLACES`. A name followed
by a road suffix (路, 大道, 街 but not 街道, 道, 巷; optionally after a
direction or ordinal such as 南 in 宝安南路) is part of a road name and is
no evidence. A few common words that contain a place name (招商银行, 光明正大
...) are matched as neutral phrases so that they are no evidence either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from schemas.shenzhen import DISTRICTS, OTHER_CITIES


class NameKind(StrEnum):
    """What a gazetteer name denotes."""

    DISTRICT = "district"
    STREET = "street"
    PLACE = "place"
    NEUTRAL = "neutral"  # a common phrase containing a place name: no evidence


@dataclass(frozen=True)
class Entry:
    """One gazetteer name; ``weak`` evidence counts only when nothing else is named."""

    name: str
    slug: str | None
    kind: NameKind
    street: str | None = None
    weak: bool = False


# Places worth knowing beyond shenzhen.md's starter list.
EXTRA_PLACES: dict[str, tuple[str, ...]] = {
    "nanshan": ("深圳湾口岸", "海岸城", "南油", "白石洲", "欢乐海岸", "西丽湖", "前海湾"),
    "futian": ("福田口岸", "福田保税区", "景田", "市民中心", "八卦岭", "新洲", "石厦"),
    "luohu": ("罗湖口岸", "罗湖火车站", "人民南", "布心", "田贝", "洪湖", "东门老街"),
    "yantian": ("中英街", "盐田港区"),
    "baoan": ("宝安国际机场", "固戍", "桃源居", "塘尾", "宝安新中心"),
    "longgang": ("龙岗中心城", "坂雪岗", "李朗", "大芬", "大运中心", "丹竹头"),
    "longhua": ("深圳北站", "清湖", "观澜湖", "红山", "龙华新区"),
    "pingshan": ("坪山新区", "坪山高铁站"),
    "guangming": ("光明新区", "光明科学城"),
    "dapeng": ("较场尾", "大鹏所城", "西涌", "东涌", "杨梅坑"),
    "shenshan": ("深汕合作区", "深汕特别合作区"),
}

# 前海: since 2021 the zone also covers parts of 宝安; alone it means 南山.
WEAK_PLACES: frozenset[str] = frozenset({"前海", "前海湾"})

NEUTRAL_PHRASES: tuple[str, ...] = (
    "招商银行",
    "招商证券",
    "光明正大",
    "光明日报",
    "光明乳业",
    "凤凰卫视",
    "凤凰网",
    "福田汽车",
    "新安江",
)

_ROAD_SUFFIX = re.compile(r"[东南西北中一二三四五六七八九十]?(?:路|大道|街(?!道)|道|巷)")


def _entries() -> list[Entry]:
    entries: dict[str, Entry] = {}

    def add(entry: Entry) -> None:
        # A name listed twice keeps its most specific meaning (street over place).
        entries.setdefault(entry.name, entry)

    for d in DISTRICTS:
        for street in d.streets:
            add(Entry(street + d.street_suffix, d.slug, NameKind.STREET, street))
        for street in d.streets:
            add(Entry(street, d.slug, NameKind.STREET, street))
    for d in DISTRICTS:
        add(Entry(d.name, d.slug, NameKind.DISTRICT))
        add(Entry(d.short, d.slug, NameKind.DISTRICT))
        for place in (*d.places, *EXTRA_PLACES.get(d.slug, ())):
            add(Entry(place, d.slug, NameKind.PLACE, weak=place in WEAK_PLACES))
    for phrase in NEUTRAL_PHRASES:
        add(Entry(phrase, None, NameKind.NEUTRAL))
    return list(entries.values())


@dataclass(frozen=True)
class Hit:
    """One name found in a text."""

    entry: Entry
    start: int


class Gazetteer:
    """Finds district, street and place names in text, longest first, roads excluded."""

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self._entries = {e.name: e for e in (entries if entries is not None else _entries())}
        names = sorted(self._entries, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(n) for n in names))
        self._streets = {e.name: e for e in self._entries.values() if e.kind is NameKind.STREET}
        cities = "|".join(re.escape(c) for c in OTHER_CITIES)
        self._city_named = re.compile(rf"({cities})(?:市|特别行政区)")
        self._city_leading = re.compile(rf"^(?:中国)?(?:广东省?)?({cities})")

    def hits(self, text: str) -> list[Hit]:
        """Every name that is evidence, scanning left to right, longest name first."""
        found: list[Hit] = []
        for m in self._pattern.finditer(text):
            entry = self._entries[m.group(0)]
            if entry.kind is NameKind.NEUTRAL:
                continue
            if _ROAD_SUFFIX.match(text, m.end()):
                continue
            found.append(Hit(entry, m.start()))
        return found

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where names of the gazetteer stand in ``text`` (roads and neutral phrases too)."""
        return [m.span() for m in self._pattern.finditer(text)]

    def street(self, name: str) -> Entry | None:
        """The street called exactly ``name`` (with or without its suffix), if any."""
        return self._streets.get(name.strip())

    def other_city(self, text: str) -> str | None:
        """The other city an address names as such (东莞市, or leading 东莞...), if any."""
        m = self._city_named.search(text) or self._city_leading.match(text.strip())
        return m.group(1) if m else None


@dataclass(frozen=True)
class Resolution:
    """What one text says: a district (with the names that said so), or not."""

    slug: str | None  # the one district named, else None
    names: tuple[str, ...]  # the evidence names
    street: str | None  # a street of that district named in the text, if any
    ambiguous: bool  # names of more than one district


def resolve(gazetteer: Gazetteer, text: str) -> Resolution:
    """The single district ``text`` names, by strong evidence, else by weak evidence."""
    hits = gazetteer.hits(text)
    strong = [h for h in hits if not h.entry.weak]
    chosen = strong or hits
    slugs = {h.entry.slug for h in chosen}
    names = tuple(dict.fromkeys(h.entry.name for h in chosen))
    if len(slugs) != 1:
        return Resolution(None, names, None, ambiguous=len(slugs) > 1)
    slug = next(iter(slugs))
    street = next((h.entry.street for h in chosen if h.entry.kind is NameKind.STREET), None)
    return Resolution(slug, names, street, ambiguous=False)
