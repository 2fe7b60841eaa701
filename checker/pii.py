"""Personal numbers in published values and log lines: the leak scan's own detector.

A second, independent detector: it shares no code with the masker
(``core.pii``) that it judges, and works the other way round. The masker must
recognise personal numbers it has never seen; this detector knows a
scenario's numbers and looks for each of them in any written form:

* the text is folded (NFKC: full-width digits and punctuation to ASCII) and
  JSON or repr escapes (``\\n``, ``\\u00b7``...) are undone;
* runs of digits are read across up to three separator characters (spaces,
  line breaks, hyphens and dashes, dots, middle dots, slashes, brackets, plus
  signs), so ``+86 (138) 1234-5678`` reads as ``8613812345678``; a mask
  character (``*``) or any letter or Chinese character ends a run;
* a number is found when its digits occur in a run: a mobile's 11, a
  landline's digits after the leading 0 (also found after ``+86``), the first
  17 characters of an 18-character ID number (they fix the check character)
  and its old 15-digit form.

:func:`clear_number` is the generic check for numbers nobody listed: the plain
written forms only (a mobile, an 18-character ID number, a landline with its
area code), so that it never mistakes what a masker rightly keeps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\[nrt]")
_RUN = re.compile(r"[0-9](?:[\s\-‐‑‒–—―−.·•・/()\[\]【】+]{0,3}[0-9])*")
_NOT_DIGIT = re.compile(r"[^0-9]")
_NUMBER_LIKE = re.compile(r"[0-9Xx\s+()\-.]*[0-9][0-9Xx\s+()\-.]*")
_MIN_TERM = 9  # shorter digit strings are too common to mean a person

_PLAIN = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[- ]?)?1[3-9][0-9](?:[0-9]{8}|[- ][0-9]{4}[- ][0-9]{4})"
    r"(?![0-9])"
    r"|(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])"
    r"|(?<![0-9])0[0-9]{2,3}-?[2-9][0-9]{6,7}(?![0-9])"
)

# Identifiers and times: hashes and digits that may look like numbers but are not personal.
_NOT_TEXT = frozenset(
    {
        "event_id",
        "case_id",
        "merged_case_ids",
        "alert_id",
        "case_ids",
        "person_key",
        "uscc",
        "employer_key",
        "external_id",
        "version",
        "window_start",
        "window_end",
        "open_until",
    }
)


def fold(text: str) -> str:
    """``text`` with escapes undone and full-width forms folded (NFKC)."""
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else " ", text)
    return unicodedata.normalize("NFKC", text)


def _search_terms(number: str) -> list[str]:
    """The digit strings whose presence means ``number`` is there in clear."""
    compact = fold(number).upper()
    digits = _NOT_DIGIT.sub("", compact)
    if len(compact) == 18 and compact[:17].isdigit():  # an ID number (check char may be X)
        terms = [compact[:17]]
        if compact[6:8] == "19":  # the old 15-digit form of someone born before 2000
            terms.append(compact[:6] + compact[8:17])
        return terms
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if digits.startswith("0"):  # a landline: +86 drops the 0 of the area code
        digits = digits[1:]
    return [digits] if len(digits) >= _MIN_TERM else []


@dataclass(frozen=True)
class KnownNumbers:
    """A scenario's personal numbers (and other secret-ish terms), found in any written form.

    Digit strings are looked for as described in the module doc; any other
    term (a name, say) is looked for literally.
    """

    by_length: dict[int, frozenset[str]] = field(default_factory=dict)
    literals: tuple[str, ...] = ()

    @classmethod
    def of(cls, terms: Iterable[str]) -> KnownNumbers:
        """The detector for ``terms``: phone and ID numbers as normalised or as written."""
        grouped: dict[int, set[str]] = {}
        literals = []
        for term in terms:
            if not term:
                continue
            if _NUMBER_LIKE.fullmatch(fold(term)):
                for digits in _search_terms(term):
                    grouped.setdefault(len(digits), set()).add(digits)
            else:
                literals.append(term)
        return cls({n: frozenset(s) for n, s in grouped.items()}, tuple(literals))

    def __bool__(self) -> bool:
        return bool(self.by_length or self.literals)

    def found(self, text: str) -> int:
        """How many of the known numbers and terms occur in ``text`` (each counted once)."""
        hits = {term for term in self.literals if term in text}
        if not self.by_length:
            return len(hits)
        shortest = min(self.by_length)
        for run in _RUN.finditer(fold(text)):
            if run.end() - run.start() < shortest:
                continue
            digits = _NOT_DIGIT.sub("", run.group(0))
            for length, terms in self.by_length.items():
                hits.update(
                    window
                    for i in range(len(digits) - length + 1)
                    if (window := digits[i : i + length]) in terms
                )
        return len(hits)


def clear_number(text: str) -> bool:
    """Whether ``text`` holds a personal number in a plain written form (no list needed)."""
    return _PLAIN.search(fold(text)) is not None


def leaks(value: dict[str, Any], known: KnownNumbers | None = None) -> bool:
    """Whether ``value`` holds a clear personal number in a text field, or a known one anywhere.

    Text fields are every string except identifiers and times (see ``_NOT_TEXT``);
    ``known`` (a scenario's own numbers) are looked for in every string, in any form.
    """
    if any(clear_number(text) for text in _texts(value, skip_identifiers=True)):
        return True
    if not known:
        return False
    return any(known.found(text) for text in _texts(value, skip_identifiers=False))


def _texts(value: Any, *, skip_identifiers: bool) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if skip_identifiers and (key in _NOT_TEXT or str(key).endswith("_at")):
                continue
            yield from _texts(item, skip_identifiers=skip_identifiers)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, skip_identifiers=skip_identifiers)
