"""Find and mask personal numbers in free text, however they are written.

The one masker of the project: the router runs it on every text that leaves it
(summaries, employer and location fields, dead-letter reasons), the log
processor on every value of every log line. What it promises (checked by the
property and corpus tests of ``tests/unit/test_pii_masker.py``):

* **Masked**: mainland mobiles (11 digits ``1[3-9]...``, also after ``+86``,
  ``86``, ``0086``, ``(+86)`` or a dialled ``0``), landlines with their area code
  (``0755-26881234``, ``(0755)26881234``, ``+86 755 2688 1234``), resident ID
  numbers of 18 characters (check character a digit or ``X``/``x``) and the old
  15-digit form; in ASCII or full-width digits or a mix, with spaces, hyphens,
  dots, middle dots, slashes, brackets or line breaks (also escaped, ``\\n``)
  between any groups of digits, next to Chinese text or punctuation. The mask
  keeps a recognisable shape and no other digit: ``138****5678``,
  ``0755-****1234``, ``440305********123X``, ``440305*****1234``.
* **Kept**: amounts of money (a unit 元/块/万/亿 after, ``¥``/``￥`` before),
  dates and times, identifiers whose digits are glued to letters (order numbers
  such as ``GD12351-20261203-000146``, credit codes), short numbers (street
  numbers, counts) and digit runs that have no personal shape.
* **Where it cannot tell, it masks**: a run with a personal shape is masked even
  in an odd place (inside a decimal, glued to letters, an ID number with an
  impossible date but a valid check character).

A contiguous run of digits is never split. Where runs joined by separators can
be read in more than one way (``13812345678 2026``: a mobile and a year, or a
15-digit ID number), the reading with the strongest evidence decides the mask's
shape (an ID number with a valid check character, then a mobile, a landline, an
ID number with a valid birth date only, an old 15-digit ID number; then the
longer one), and every digit of the other readings is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_DIGIT = "0-9０-９"
_CHECK = "XxＸｘ"
_LETTER = "A-Za-zＡ-Ｚａ-ｚ_"
# What people type between groups of a number, plus the escaped line breaks of a repr().
_SEPARATOR = r"(?:[\s\-－‐‑‒–—―−﹣.．·・･•/／()（）+＋]|\\[nrt])"
# The lookahead lets the regex engine skip quickly to where a chain can start.
_CHAIN = re.compile(
    rf"(?=[(（+＋{_DIGIT}])(?:[(（][+＋]?|[+＋])?[{_DIGIT}]+(?:{_SEPARATOR}{{1,4}}[{_DIGIT}]+)*"
    rf"(?:[{_CHECK}](?![{_LETTER}]))?"
)
_GROUP = re.compile(rf"[{_DIGIT}]+[{_CHECK}]?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# A letter, or the * of a mask (the kept end of a masked number is never joined again).
_LETTER_RE = re.compile(rf"[{_LETTER}*]")
_MONEY_AFTER = re.compile(r"\s?[元块圆万亿角]")
_MONEY_BEFORE = re.compile(r"[¥￥$]\s?$")
_CLOSING = frozenset(")）")

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes: 10 and 2x (two digits), 3xx-9xx (three); local numbers start with 2-9.
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d\d))([2-9]\d{6,7})")
_LANDLINE_INTL = re.compile(r"(10|2\d|[3-9]\d\d)([2-9]\d{6,7})")
# The province codes that open a resident ID number (GB/T 2260).
_PROVINCES = frozenset(
    f"{p}" for p in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                     *range(50, 55), *range(61, 66), 71, 81, 82, 83)
)  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MIN_DIGITS = 10  # the shortest personal number: a landline 0 + 2-digit area + 7 digits
_MAX_DIGITS = 18


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a digit sequence spells: ``kind``, leading prefix digits, area-code length."""

    kind: str  # "mobile", "landline" or "id"
    strength: int  # how sure the reading is, when two readings overlap (higher wins)
    prefix: int  # digits before the number itself (86, 0086, a dialled 0)
    area: int = 0  # landlines: digits of the area code as written (without an added 0)
    add_zero: bool = False  # landlines written internationally (+86 755 ...) lose their 0


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """One personal number found in a text: where it is and its masked form."""

    start: int
    end: int
    kind: str
    masked: str


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    raw: str  # as written, check character included
    digits: str  # ASCII digits, check character excluded
    check: bool  # ends in an ID number's X
    glued: bool  # a letter or * touches it: never joined to other groups, read alone


def _id_date_ok(month: str, day: str) -> bool:
    return "01" <= month <= "12" and "01" <= day <= "31"


def _id_check_ok(first17: str, check: str) -> bool:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == check


def _id_strength(digits: str, check: str | None) -> int:
    """How much ``digits`` look like a resident ID number: 0 (not), 1 (15 digits), 2 or 5.

    18 characters (``check`` given): 5 with a valid check character, 2 with a
    plausible birth date only. 15 digits (old form): 1 with a plausible date.
    """
    if digits[:2] not in _PROVINCES:
        return 0
    if check is None:
        return 1 if _id_date_ok(digits[8:10], digits[10:12]) else 0
    if _id_check_ok(digits[:17], check):
        return 5
    return 2 if digits[6:8] in ("19", "20") and _id_date_ok(digits[10:12], digits[12:14]) else 0


def _classify(digits: str, check: bool) -> _Shape | None:
    """The personal number ``digits`` (ASCII, a trailing X when ``check``) spells, if any."""
    n = len(digits)
    if check:
        strength = _id_strength(digits, "X") if n == 17 else 0
        return _Shape("id", strength, 0) if strength else None
    if n in (15, 18) and (strength := _id_strength(digits, digits[17] if n == 18 else None)):
        return _Shape("id", strength, 0)
    for prefix in ("", "0", "86", "0086"):
        if digits.startswith(prefix) and _MOBILE.fullmatch(digits, len(prefix)):
            return _Shape("mobile", 4, len(prefix))
    if m := _LANDLINE.fullmatch(digits):
        return _Shape("landline", 3, 0, area=len(m.group(1)))
    for prefix in ("86", "0086"):
        if digits.startswith(prefix) and (m := _LANDLINE_INTL.fullmatch(digits, len(prefix))):
            return _Shape("landline", 3, len(prefix), area=len(m.group(1)), add_zero=True)
    return None


def _mask(shape: _Shape, written: str) -> str:
    """The masked form of a number ``written`` as a string of digit characters."""
    body = written[shape.prefix :]
    if shape.kind == "id":
        return body[:6] + "*" * (len(body) - 10) + body[-4:]
    if shape.kind == "mobile":
        return body[:3] + "*" * (len(body) - 7) + body[-4:]
    area, local = body[: shape.area], body[shape.area :]
    return ("0" if shape.add_zero else "") + area + "-" + "*" * (len(local) - 4) + local[-4:]


def _glued(text: str, start: int, end: int) -> bool:
    """Whether a letter or ``*`` touches ``text[start:end]`` (a repr's ``\\n`` does not)."""
    before = text[start - 1] if start else ""
    escaped = before in ("n", "r", "t") and text[start - 2 : start - 1] == "\\"
    after = text[end] if end < len(text) else ""
    return bool(_LETTER_RE.fullmatch(before) and not escaped) or bool(_LETTER_RE.fullmatch(after))


def _groups(text: str, start: int, end: int) -> list[_Group]:
    groups = []
    for m in _GROUP.finditer(text, start, end):
        raw = m.group(0)
        check = not raw[-1].isdigit()
        digits = (raw[:-1] if check else raw).translate(_FULL_WIDTH)
        glued = _glued(text, m.start(), m.end())
        groups.append(_Group(m.start(), m.end(), raw, digits, check, glued))
    return groups


def _is_money(text: str, first: _Group, last: _Group) -> bool:
    return bool(
        _MONEY_AFTER.match(text, last.end)
        or _MONEY_BEFORE.search(text, max(first.start - 2, 0), first.start)
    )


@dataclass(slots=True)
class _Reading:
    first: int  # index of its first group
    last: int  # index of its last group
    digits: int
    shape: _Shape
    merged: bool = False  # widened over an overlapping reading: masked whole


def _readings(text: str, groups: list[_Group]) -> Iterator[_Reading]:
    """Every run of consecutive groups that spells a personal number (money excluded)."""
    for i, first in enumerate(groups):
        digits = ""
        for j in range(i, len(groups)):
            group = groups[j]
            if j > i and (group.glued or first.glued):
                break
            digits += group.digits
            if len(digits) > _MAX_DIGITS:
                break
            shape = _classify(digits, group.check)
            if shape is not None and not _is_money(text, first, group):
                yield _Reading(i, j, len(digits), shape)


def _choose(readings: list[_Reading]) -> list[_Reading]:
    """Non-overlapping readings, strongest (then longest, then leftmost) first.

    A reading that loses to an overlapping one but reaches beyond it widens the
    winner, which is then masked whole: in ``110000 400101 130 2026-12-03`` an
    old ID number overlaps a "mobile" ``130 2026 12 03``, and neither mask may
    show the other's digits. Where it cannot tell, it masks.
    """
    chosen: list[_Reading] = []
    for reading in sorted(readings, key=lambda r: (-r.shape.strength, -r.digits, r.first)):
        hit = [c for c in chosen if c.first <= reading.last and reading.first <= c.last]
        if not hit:
            chosen.append(reading)
        for c in hit:
            if reading.first < c.first or reading.last > c.last:
                c.first, c.last = min(c.first, reading.first), max(c.last, reading.last)
                c.merged = True
    # Widened readings may now overlap each other: fold them together.
    merged: list[_Reading] = []
    for reading in sorted(chosen, key=lambda r: r.first):
        if merged and reading.first <= merged[-1].last:
            merged[-1].last = max(merged[-1].last, reading.last)
            merged[-1].merged = True
        else:
            merged.append(reading)
    return merged


def _chain_spans(text: str, chain: re.Match[str]) -> list[NumberSpan]:
    groups = _groups(text, chain.start(), chain.end())
    if sum(len(g.digits) for g in groups) < _MIN_DIGITS:
        return []
    spans = []
    for reading in _choose(list(_readings(text, groups))):
        first, last = groups[reading.first], groups[reading.last]
        start = first.start
        if reading.first == 0 and chain.start() < first.start:
            # A leading +, or a bracket that closes inside the number: (+86), (0755).
            opened = text[chain.start()] in "(（"
            if not opened or _CLOSING.intersection(text[first.start : last.end]):
                start = chain.start()
        written = "".join(g.raw for g in groups[reading.first : reading.last + 1])
        masked = (
            written[:3] + "*" * (len(written) - 7) + written[-4:]
            if reading.merged
            else _mask(reading.shape, written)
        )
        spans.append(NumberSpan(start, last.end, reading.shape.kind, masked))
    return spans


def find_numbers(text: str) -> list[NumberSpan]:
    """Every personal number in ``text``, left to right, with its masked form."""
    spans: list[NumberSpan] = []
    for chain in _CHAIN.finditer(text):
        if chain.end() - chain.start() >= _MIN_DIGITS:
            spans.extend(_chain_spans(text, chain))
    return spans


def mask_numbers(text: str) -> str:
    """``text`` with every personal number in it (any written form) masked, the rest kept."""
    spans = find_numbers(text)
    if not spans:
        return text
    parts = []
    at = 0
    for span in spans:
        parts += [text[at : span.start], span.masked]
        at = span.end
    parts.append(text[at:])
    return "".join(parts)


def contains_numbers(text: str) -> bool:
    """True when ``text`` holds a personal number :func:`mask_numbers` would mask."""
    return any(
        _chain_spans(text, chain)
        for chain in _CHAIN.finditer(text)
        if chain.end() - chain.start() >= _MIN_DIGITS
    )


def mask_id_number(value: str) -> str:
    """Mask a resident ID number, keeping the 6-digit region code and the last 4."""
    return (
        value[:6] + "*" * max(len(value) - 10, 0) + value[-4:]
        if len(value) > 10
        else "*" * len(value)
    )


def mask_phone(value: str) -> str:
    """Mask one phone number: ``13812345678`` -> ``138****5678``; landlines keep the area code.

    ``value`` is a phone field (normalised or as typed). A number of no known
    shape (e.g. a local landline without its area code) keeps its last 4 digits.
    """
    written = "".join(ch for ch in value if ch.isdigit())
    shape = _classify(written.translate(_FULL_WIDTH), check=False)
    if shape is not None and shape.kind != "id":
        return _mask(shape, written)
    return "*" * max(len(written) - 4, 0) + written[-4:] if len(written) > 4 else "*" * len(written)
