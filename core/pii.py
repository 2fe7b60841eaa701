"""Recognise and mask personal numbers in free text.

Resident ID numbers (18 characters, last one a digit or X), mainland mobile
numbers (optionally +86) and landlines with an area code are masked wherever
they appear, in ASCII or full-width digits. Used by the log processor and by
the router before any text leaves it.
"""

from __future__ import annotations

import re

_D = "[0-9０-９]"
_ID_NUMBER = re.compile(rf"(?<![0-9０-９A-Za-z]){_D}{{17}}[0-9０-９XxＸｘ](?![0-9０-９A-Za-z])")
_MOBILE = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+|＋)?(?:86|８６)[- ]?)?([1１][3-9３-９]{_D}{{9}})(?![0-9０-９])"
)
_LANDLINE = re.compile(rf"(?<![0-9０-９])([0０]{_D}{{2,3}})[-－ ]?({_D}{{7,8}})(?![0-9０-９])")


def mask_id_number(value: str) -> str:
    """Mask a resident ID number, keeping the 6-digit region code and the last 4."""
    return (
        value[:6] + "*" * max(len(value) - 10, 0) + value[-4:]
        if len(value) > 10
        else "*" * len(value)
    )


def mask_phone(value: str) -> str:
    """Mask a phone number: ``13812345678`` -> ``138****5678``, landlines keep area code."""
    digits = value.strip()
    landline = _LANDLINE.fullmatch(digits)
    if landline:
        area, number = landline.groups()
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


def mask_numbers(text: str) -> str:
    """Return ``text`` with every ID, mobile and landline number in it masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(1)), text)
    return _LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)


def contains_numbers(text: str) -> bool:
    """True when ``text`` holds an unmasked ID, mobile or landline number."""
    return bool(_ID_NUMBER.search(text) or _MOBILE.search(text) or _LANDLINE.search(text))
