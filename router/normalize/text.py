"""Text normalisation for dedupe: employer names, masked names, 3-gram shingles."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.shenzhen import DISTRICTS

_CITY_PREFIXES = ("深圳市", "深圳")
# Full names before short ones, so 南山区 is dropped whole rather than leaving 区.
_DISTRICT_PREFIXES = tuple(
    sorted({n for d in DISTRICTS for n in (d.name, d.short)}, key=len, reverse=True)
)
_COMPANY_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "厂")
_SPACES = re.compile(r"\s+")


def fold_width(text: str) -> str:
    """Full-width ASCII forms (letters, digits, punctuation, space) folded to half-width."""
    return unicodedata.normalize("NFKC", text)


def normalize_employer_name(name: str | None) -> str | None:
    """The employer name as dispatch.md compares it; None if nothing is left.

    Full-width folded to half-width; spaces and punctuation dropped; a leading
    深圳市/深圳, then a leading district name, dropped; then one trailing company
    form, longest first.
    """
    if not name:
        return None
    text = "".join(
        ch
        for ch in fold_width(name)
        if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )
    for prefix in _CITY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for prefix in _DISTRICT_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for form in _COMPANY_FORMS:
        if text.endswith(form):
            text = text[: -len(form)]
            break
    return text or None


def mask_name(name: str | None) -> str | None:
    """A person's name with all but the first character masked: 陈望 -> 陈*.

    At least one ``*`` follows, so a one-character name is not shown whole.
    """
    if not name:
        return None
    return name[0] + "*" * max(len(name) - 1, 1)


def shingles(text: str, key: bytes) -> list[int]:
    """Sorted keyed 31-bit hashes of the character 3-grams of ``text`` without spaces.

    A text shorter than three characters is its own single shingle; an empty
    text has none. 31 bits keep each number at most 10 digits long, so a list
    of them never looks like a phone or ID number to a scanner.
    """
    compact = _SPACES.sub("", text)
    if not compact:
        return []
    grams = {compact[i : i + 3] for i in range(max(len(compact) - 2, 1))}
    hashes = _GRAM_HASHES.get(key)
    if hashes is None or len(hashes) > _MAX_CACHED_GRAMS:
        hashes = _GRAM_HASHES[key] = _GramHashes(key)
    # Complaint texts share most of their 3-grams: the keyed hash of each is
    # computed once (a dict lookup in C per gram after that).
    return sorted(map(hashes.__getitem__, grams))


_MAX_CACHED_GRAMS = 1 << 18


class _GramHashes(dict[str, int]):
    """3-gram -> its keyed 31-bit hash, computed on first use."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self._key = key[:64]

    def __missing__(self, gram: str) -> int:
        digest = hashlib.blake2b(gram.encode(), key=self._key, digest_size=4).digest()
        value = self[gram] = int.from_bytes(digest) >> 1
        return value


_GRAM_HASHES: dict[bytes, _GramHashes] = {}
