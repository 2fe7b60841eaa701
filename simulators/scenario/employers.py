"""Employers with realistic names and valid unified social credit codes, and name variants.

Brand names are drawn so that they never contain a district, street, place or
city name: only the parts a generator puts in on purpose are place evidence.
"""

from __future__ import annotations

import random

from schemas.shenzhen import DISTRICT_BY_SLUG, DISTRICTS, OTHER_CITIES
from simulators.scenario.ids import make_uscc

BRAND_CHARS = "鑫鸿盛泰宏达利通恒昌汇丰源佳嘉联创新科瑞祥信诚德隆兴旺腾辉锦卓越精工美华远晟博智天"
LATIN_BRANDS = ("KMT", "ZTX", "HBS", "GRT", "YLD", "AMC", "JXT", "BDK")
INDUSTRIES = (
    "电子", "电子科技", "精密模具", "五金制品", "塑胶制品", "建筑工程", "建设工程", "物流",
    "服装", "家具", "印刷", "餐饮管理", "物业管理", "劳务派遣", "保安服务", "智能装备",
    "新能源科技", "电线电缆", "玩具", "货运代理",
)  # fmt: skip
FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")


def _place_words() -> tuple[str, ...]:
    words: set[str] = set(OTHER_CITIES)
    for d in DISTRICTS:
        words.update((d.name, d.short, *d.streets, *d.places))
    return tuple(words)


PLACE_WORDS = _place_words()


def has_place_word(text: str) -> bool:
    """True when ``text`` contains any district, street, place or city name."""
    return any(w in text for w in PLACE_WORDS)


class EmployerNames:
    """Draws unique, place-free employer names for one scenario."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def core(self) -> str:
        """A brand + industry never used before in this scenario, free of place names."""
        rng = self._rng
        while True:
            if rng.random() < 0.12:
                brand = rng.choice(LATIN_BRANDS)
            else:
                brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            core = brand + rng.choice(INDUSTRIES)
            if core not in self._used and not has_place_word(core):
                self._used.add(core)
                return core


def make_registered_name(core: str, rng: random.Random, slug: str | None) -> str:
    """The registered name: 深圳市 + (sometimes) district + core + company form (or 厂)."""
    if slug is not None and rng.random() < 0.15:
        d = DISTRICT_BY_SLUG[slug]
        if d.code is not None:
            street = rng.choice(d.streets)
            return f"深圳市{d.name}{street}{core}厂"
    return f"深圳市{core}{rng.choice(FORMS)}"


def make_employer_uscc(rng: random.Random, slug: str | None) -> str:
    """A valid code registered in Shenzhen (district-level region code where known)."""
    code = DISTRICT_BY_SLUG[slug].code if slug is not None else None
    return make_uscc(rng, code or "440300")


_FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}


def name_variant(name: str, rng: random.Random) -> str:
    """How a complainant or clerk writes a registered name: with or without 深圳市 and
    the company form, in full-width letters, with stray spaces. Normalised, all equal."""
    roll = rng.random()
    if roll < 0.45:
        return name
    body = name.removeprefix("深圳市")
    if roll < 0.6:
        return body
    if roll < 0.7:
        return "深圳" + body
    if roll < 0.8:
        for form in ("股份有限公司", "有限责任公司", "有限公司"):
            if body.endswith(form):
                return body.removesuffix(form) + rng.choice(("公司", ""))
        return body
    if roll < 0.9:
        return name.translate(_FULL_WIDTH)
    return name.replace("深圳市", "深圳市 ", 1)
