"""Each channel's category and status labels, mapped to the canonical vocabularies.

The labels themselves are written down once, in :mod:`schemas.vocabulary`.
"""

from __future__ import annotations

from schemas.channels import Channel
from schemas.complaint import Category, Status
from schemas.vocabulary import STATUS_LABELS, category_labels

CATEGORIES: dict[Channel, dict[str, Category]] = {c: category_labels(c) for c in Channel}
STATUSES: dict[Channel, dict[str, Status]] = STATUS_LABELS


def category_of(channel: Channel, label: str) -> Category | None:
    """The canonical category of ``channel``'s ``label``, None if the label is unknown."""
    return CATEGORIES[channel].get(label.strip())


def status_of(channel: Channel, label: str) -> Status | None:
    """The normalised status of ``channel``'s ``label``, None if the label is unknown."""
    return STATUSES[channel].get(label.strip())
