"""What every channel record offers the router: the channel-independent shape and the base model.

:class:`CommonFields` is one record's facts under one vocabulary-free shape,
for the router's normaliser; :class:`ChannelRecord` is the base of the five
channel models, each of which maps itself onto it. Kept apart from the
channel models: the router depends on this shape, not on any channel's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from schemas.channels import Channel


@dataclass(frozen=True)
class LocationHints:
    """What a record says about where the problem is (routing rule 1 and the address of 3)."""

    district_name: str | None = None  # a district as the upstream names it, possibly with city
    street_name: str | None = None
    district_code: str | None = None
    address: str | None = None  # citizen_app location.address only


@dataclass(frozen=True)
class CommonFields:
    """One record's facts in a channel-independent shape (labels still upstream's own)."""

    reported_at: datetime
    category_label: str
    person_name: str | None
    phone: str | None
    id_number: str | None
    employer_name: str | None
    employer_uscc: str | None
    employer_address: str | None
    location: LocationHints
    complaint_text: str  # title and content: the text of gazetteer rule 3 and of similarity
    people_involved: int
    status_label: str


# Records and their parts: immutable, unknown upstream fields ignored, fields by name or alias.
LENIENT = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ChannelRecord(BaseModel):
    """Base of the five channel models."""

    model_config = LENIENT
    channel: ClassVar[Channel]

    @property
    def external_id(self) -> str:
        """The upstream's stable id."""
        raise NotImplementedError

    def common(self) -> CommonFields:
        """This record's facts under the channel-independent shape."""
        raise NotImplementedError
