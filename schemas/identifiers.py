"""Validation and normalisation of personal and company identifiers.

Resident ID numbers follow GB 11643 (18 characters, ISO 7064 MOD 11-2 check
character), unified social credit codes follow GB 32100 (18 characters over a
31-symbol alphabet, MOD 31 check character), phones are normalised as
``shared/spec/dispatch.md`` defines for dedupe. Every function returns ``None``
for a value that is missing or invalid: an invalid identifier is unknown, not
fatal.
"""

from __future__ import annotations

import re
import unicodedata

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_WITH_AREA = re.compile(r"0\d{9,11}")
_LANDLINE_LOCAL = re.compile(r"[2-9]\d{6,7}")


def _fold(value: str) -> str:
    """Full-width to half-width, whitespace and separators removed."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-_./()")


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(value: str | None) -> str | None:
    """The 18-character resident ID number (upper-case X), or None if absent or invalid."""
    if not value:
        return None
    candidate = _fold(value).upper()
    if len(candidate) != 18 or not candidate[:17].isdigit() or not candidate[:17].isascii():
        return None
    if id_number_check_char(candidate[:17]) != candidate[17]:
        return None
    return candidate


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a credit code."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str | None) -> str | None:
    """The 18-character unified social credit code, or None if absent or invalid."""
    if not value:
        return None
    candidate = _fold(value).upper()
    if len(candidate) != 18 or any(c not in _USCC_ALPHABET for c in candidate):
        return None
    if uscc_check_char(candidate[:17]) != candidate[17]:
        return None
    return candidate


def normalize_phone(value: str | None) -> str | None:
    """Digits only, without a +86/86/0086 prefix; landlines keep their area code.

    Returns None for a value that is neither a mainland mobile number, a
    landline with its area code, nor a 7-8 digit local landline.
    """
    if not value:
        return None
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
    if not digits.isascii():
        return None
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        digits = digits[2:]
    else:
        return _valid_phone(digits)
    # An international number drops the 0 of the area code (+86 755 ...).
    if not digits.startswith(("0", "1")):
        digits = "0" + digits
    return _valid_phone(digits)


def _valid_phone(digits: str) -> str | None:
    if (
        _MOBILE.fullmatch(digits)
        or _LANDLINE_WITH_AREA.fullmatch(digits)
        or _LANDLINE_LOCAL.fullmatch(digits)
    ):
        return digits
    return None
