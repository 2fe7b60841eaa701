"""Normalisation of person identities, employer names and texts, per dispatch.md "Dedupe".

An independent implementation for the ground truth: it shares no code with
the router (nor with the scenario generator's own notion of identity).
"""

from __future__ import annotations

import re
import unicodedata

from schemas.shenzhen import DISTRICTS

COMPANY_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "厂")
_DISTRICT_PREFIXES = tuple(
    sorted({n for d in DISTRICTS for n in (d.name, d.short)}, key=len, reverse=True)
)
_ID = re.compile(r"^\d{17}[\dX]$")


def fold(text: str) -> str:
    """Full-width letters, digits and punctuation folded to half-width (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def phone_key(value: str | None) -> str | None:
    """Digits only, without a +86/86 country prefix; landlines keep their area code."""
    if not value:
        return None
    digits = "".join(c for c in fold(value) if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


def id_key(value: str | None) -> str | None:
    """An 18-character resident ID, upper-case X; anything else is no identity."""
    if not value:
        return None
    folded = fold(value).strip().upper()
    return folded if _ID.match(folded) else None


def employer_name_key(name: str | None) -> str | None:
    """The normalised employer name of dispatch.md, or None when nothing is left."""
    if not name:
        return None
    text = fold(name)
    text = "".join(
        c for c in text if not c.isspace() and not unicodedata.category(c).startswith(("P", "S"))
    )
    for prefix in ("深圳市", "深圳"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for prefix in _DISTRICT_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for form in COMPANY_FORMS:
        if text.endswith(form):
            text = text[: -len(form)]
            break
    return text or None


def uscc_key(value: str | None) -> str | None:
    """The credit code, folded and upper-cased, or None."""
    if not value:
        return None
    folded = fold(value).strip().upper()
    return folded or None


def trigrams(text: str) -> frozenset[str]:
    """Character 3-grams of ``text`` with all whitespace removed."""
    compact = "".join(c for c in text if not c.isspace())
    return frozenset(compact[i : i + 3] for i in range(max(len(compact) - 2, 0)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0
