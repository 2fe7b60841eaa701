"""Numbers as people type them into complaint texts: personal ones in every form, and others.

A complainant writes their own mobile, landline or ID number into the text in
one of the forms of :data:`PHONE_FORMS`, :data:`LANDLINE_FORMS`,
:data:`ID_FORMS` or :data:`OLD_ID_FORMS` (separators, prefixes, full-width
digits, line breaks); the router must mask every one. Amounts, dates and
order-like ids (:func:`kept_numbers`) must come out unchanged. Every form is
GBK-encodable (the petition window exports GBK).
"""

from __future__ import annotations

import random
from collections.abc import Callable

_FULL = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")

Form = Callable[[str], str]


def _groups(number: str, cuts: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for cut in (*cuts, len(number)):
        parts.append(number[at:cut])
        at = cut
    return sep.join(parts)


def _mixed(number: str) -> str:
    """Every other character full-width, as when a keyboard's width mode flips mid-number."""
    return "".join(c.translate(_FULL) if i % 2 else c for i, c in enumerate(number))


# Mobiles, "13812345678": (name, form).
PHONE_FORMS: tuple[tuple[str, Form], ...] = (
    ("plain", lambda m: m),
    ("spaces", lambda m: _groups(m, (3, 7), " ")),
    ("hyphens", lambda m: _groups(m, (3, 7), "-")),
    ("dots", lambda m: _groups(m, (3, 7), ".")),
    ("middle_dots", lambda m: _groups(m, (3, 7), "·")),
    ("slashes", lambda m: _groups(m, (3, 7), "/")),
    ("odd_groups", lambda m: _groups(m, (4, 7), "-")),
    ("plus86_spaces", lambda m: "+86 " + _groups(m, (3, 7), " ")),
    ("plus86", lambda m: "+86" + m),
    ("86_hyphen", lambda m: "86-" + m),
    ("0086", lambda m: "0086 " + m),
    ("bracket_plus86", lambda m: "(+86)" + m),
    ("full_width", lambda m: m.translate(_FULL)),
    ("full_width_spaces", lambda m: _groups(m, (3, 7), "\u3000").translate(_FULL)),
    ("mixed_width", _mixed),
    ("line_break", lambda m: _groups(m, (7,), "\n")),
    ("line_break_spaces", lambda m: _groups(m, (3, 7), " ").replace(" ", "\n", 1)),
)

# Landlines with their area code, "0755-26881234".
LANDLINE_FORMS: tuple[tuple[str, Form], ...] = (
    ("hyphen", lambda n: n),
    ("brackets", lambda n: "({}){}".format(*n.split("-"))),
    ("full_brackets", lambda n: "（{}）{}".format(*n.split("-"))),
    ("spaces", lambda n: f"{n[:4]} {n[5:9]} {n[9:]}"),
    ("plus86", lambda n: f"+86 {n[1:4]} {n[5:]}"),
    ("full_width", lambda n: n.translate(_FULL)),
)

# Resident ID numbers, 18 characters: separators between the 6-8-4 groups or not.
ID_FORMS: tuple[tuple[str, Form], ...] = (
    ("plain", lambda i: i),
    ("lower_x", lambda i: i[:17] + i[17].lower()),
    ("spaces", lambda i: _groups(i, (6, 14), " ")),
    ("hyphens", lambda i: _groups(i, (6, 14), "-")),
    ("full_width", lambda i: i.translate(_FULL)),
)

# The old 15-digit form (people born before 2000 may still quote it): 6-6-3 groups.
OLD_ID_FORMS: tuple[tuple[str, Form], ...] = (
    ("plain", lambda i: i),
    ("spaces", lambda i: _groups(i, (6, 12), " ")),
    ("hyphens", lambda i: _groups(i, (6, 12), "-")),
)

_PHONE_WORDS = ("，我的电话", "，联系电话：", "（手机", "，回电请打", "，手机号码")
_LANDLINE_WORDS = ("，家里座机", "，座机：", "，白天打")
_ID_WORDS = ("，身份证号", "，本人身份证：", "（身份证号码")
_OLD_ID_WORDS = ("，老身份证号", "，身份证（旧）")


def old_id_number(id_number: str) -> str | None:
    """The 15-digit form of an 18-character ID number of someone born in the 1900s."""
    if id_number[6:8] != "19":
        return None
    return id_number[:6] + id_number[8:17]


def _phrase(words: str, written: str) -> str:
    # An opening bracket in the words is closed after the number.
    return words + written + ("）" if words.startswith("（") else "")


def typed_number(rng: random.Random, mobile: str, landline: str | None, id_number: str) -> str:
    """A phrase with one of the complainant's own numbers, written in a random form."""
    kinds = ["mobile", "mobile", "id"]
    if landline:
        kinds.append("landline")
    if old_id_number(id_number):
        kinds.append("old_id")
    kind = rng.choice(kinds)
    if kind == "mobile":
        return _phrase(rng.choice(_PHONE_WORDS), rng.choice(PHONE_FORMS)[1](mobile))
    if kind == "landline" and landline:
        return _phrase(rng.choice(_LANDLINE_WORDS), rng.choice(LANDLINE_FORMS)[1](landline))
    old = old_id_number(id_number)
    if kind == "old_id" and old:
        return _phrase(rng.choice(_OLD_ID_WORDS), rng.choice(OLD_ID_FORMS)[1](old))
    return _phrase(rng.choice(_ID_WORDS), rng.choice(ID_FORMS)[1](id_number))


def kept_numbers(rng: random.Random, year: int) -> str:
    """A phrase with numbers that are not personal: an amount, a date or an order-like id."""
    month, day = rng.randrange(1, 13), rng.randrange(1, 29)
    choices = (
        f"，共欠{rng.randrange(3000, 99000)}元",
        f"，{year}年{month}月{day}日以后没发过工资",
        f"，{year}-{month:02d}-{day:02d}开始停工",
        f"，{year}/{month:02d}/{day:02d}去过公司",
        f"，之前的工单号GD12351-{year}{month:02d}{day:02d}-{rng.randrange(1, 999999):06d}",
        f"，车间{rng.randrange(10, 300)}人，每月加班{rng.randrange(40, 160)}小时",
    )
    return rng.choice(choices)
