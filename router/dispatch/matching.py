"""The "match" relation of dispatch.md between two reports (each in its first version)."""

from __future__ import annotations

from datetime import timedelta

from router.dispatch.state.codec import FirstVersion, to_us
from router.dispatch.state.index import employer_tokens_of
from schemas.complaint import Category, EmployerMatch, NormalizedReport

IDENTITY_WINDOW = timedelta(days=30)
TEXT_WINDOW = timedelta(days=7)
MIN_TEXT_SIMILARITY = 0.7
_IDENTITY_US = IDENTITY_WINDOW // timedelta(microseconds=1)
_TEXT_US = TEXT_WINDOW // timedelta(microseconds=1)


def employer_tokens(employer: EmployerMatch | None) -> list[str]:
    """Index tokens of an employer: two reports of one employer share at least one."""
    if employer is None:
        return []
    return employer_tokens_of(employer.uscc, employer.name)


def same_employer(a: EmployerMatch | None, b: EmployerMatch | None) -> bool:
    """Equal credit codes where both have one, otherwise equal normalised names."""
    if a is None or b is None:
        return False
    return _same_employer(a.uscc, a.name, b.uscc, b.name)


def _same_employer(
    a_uscc: str | None, a_name: str | None, b_uscc: str | None, b_name: str | None
) -> bool:
    if a_uscc and b_uscc:
        return a_uscc == b_uscc
    return bool(a_name) and a_name == b_name


def compatible_categories(a: Category | str, b: Category | str) -> bool:
    """Equal, or either is ``other``."""
    return a == b or Category.OTHER in (a, b)


def matches(a: NormalizedReport, b: NormalizedReport) -> bool:
    """Whether two reports are one case by the person rule or the no-identity text rule."""
    return matches_first(b, FirstVersion.of(a))


def matches_first(
    a: NormalizedReport, b: FirstVersion, a_shingles: frozenset[int] | None = None
) -> bool:
    """:func:`matches` of a report and a stored first version (exact µs time arithmetic).

    ``a_shingles``: ``a``'s shingles as a set, when the caller compares ``a`` with
    many candidates (built once, not per candidate).
    """
    raw = b.raw
    employer = raw["employer_match"]
    if a.employer_match is None or employer is None:
        return False
    if not _same_employer(a.employer_match.uscc, a.employer_match.name, employer[0], employer[1]):
        return False
    apart = abs(to_us(a.reported_at) - raw["at"])
    persons: list[str] = raw["persons"]
    if a.person_tokens and persons:
        return (
            not set(a.person_tokens).isdisjoint(persons)
            and compatible_categories(a.category, raw["category"])
            and apart <= _IDENTITY_US
        )
    if apart > _TEXT_US:
        return False
    mine = a_shingles if a_shingles is not None else frozenset(a.shingles)
    theirs = frozenset(raw["shingles"])
    # Jaccard is at most the smaller set over the larger: no need to intersect below that.
    small, large = sorted((len(mine), len(theirs)))
    if large and small / large < MIN_TEXT_SIMILARITY:
        return False
    return jaccard_sets(mine, theirs) >= MIN_TEXT_SIMILARITY


def jaccard(a: list[int], b: list[int]) -> float:
    """Jaccard similarity of two shingle lists (as sets); 0 when both are empty."""
    return jaccard_sets(frozenset(a), frozenset(b))


def jaccard_sets(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets; 0 when both are empty."""
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0
