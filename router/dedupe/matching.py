"""The "match" relation of dispatch.md between two reports (each in its first version)."""

from __future__ import annotations

from datetime import timedelta

from router.normalize.text import jaccard
from schemas.complaint import Category, EmployerMatch, NormalizedReport

IDENTITY_WINDOW = timedelta(days=30)
TEXT_WINDOW = timedelta(days=7)
MIN_TEXT_SIMILARITY = 0.7


def employer_tokens(employer: EmployerMatch | None) -> list[str]:
    """Index tokens of an employer: two reports of one employer share at least one."""
    if employer is None:
        return []
    tokens = []
    if employer.uscc:
        tokens.append("u:" + employer.uscc)
    if employer.name:
        tokens.append("n:" + employer.name)
    return tokens


def same_employer(a: EmployerMatch | None, b: EmployerMatch | None) -> bool:
    """Equal credit codes where both have one, otherwise equal normalised names."""
    if a is None or b is None:
        return False
    if a.uscc and b.uscc:
        return a.uscc == b.uscc
    return bool(a.name) and a.name == b.name


def compatible_categories(a: Category, b: Category) -> bool:
    """Equal, or either is ``other``."""
    return a == b or Category.OTHER in (a, b)


def matches(a: NormalizedReport, b: NormalizedReport) -> bool:
    """Whether two reports are one case by the person rule or the no-identity text rule."""
    if not same_employer(a.employer_match, b.employer_match):
        return False
    apart = abs(a.reported_at - b.reported_at)
    if a.person_tokens and b.person_tokens:
        return (
            not set(a.person_tokens).isdisjoint(b.person_tokens)
            and compatible_categories(a.category, b.category)
            and apart <= IDENTITY_WINDOW
        )
    return apart <= TEXT_WINDOW and jaccard(a.shingles, b.shingles) >= MIN_TEXT_SIMILARITY
