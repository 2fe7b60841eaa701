"""The upstream record of each channel (``shared/spec/channels.md``), validated.

``RawEnvelope.record`` holds a record as received; :func:`parse_record` turns it
into the channel's model. Parsing validates: times become UTC-aware (an
upstream time without offset is China Standard Time), people counts are
positive integers, and resident ID numbers (GB 11643), credit codes
(GB 32100) and phones are normalised, an invalid one being kept as unknown
(``None``). A record that cannot be understood raises pydantic's
``ValidationError``; the router turns it into a dead letter.

Every model also offers :meth:`ChannelRecord.common`: the same facts under one
vocabulary-free shape (:class:`CommonFields`) for the router's normaliser.

The package: :mod:`.fields` (times and field types), :mod:`.common` (the
shared shape and the base model), one module per channel's model, and
:mod:`.parsing` (channel -> model). Its users need one API whatever the
layout, so the names they use are exported here.
"""

from __future__ import annotations

from schemas.records.citizen_app import CitizenAppRecord
from schemas.records.common import ChannelRecord, CommonFields, LocationHints
from schemas.records.fields import MAX_PEOPLE, MAX_TEXT_CHARS, to_utc
from schemas.records.hotline_12351 import HotlineWorkOrder
from schemas.records.legal_stations import LegalStationCase
from schemas.records.parsing import RECORD_MODELS, parse_record
from schemas.records.petition_window import PetitionWindowRow
from schemas.records.provincial_petition import ProvincialPetition

__all__ = [
    "MAX_PEOPLE",
    "MAX_TEXT_CHARS",
    "RECORD_MODELS",
    "ChannelRecord",
    "CitizenAppRecord",
    "CommonFields",
    "HotlineWorkOrder",
    "LegalStationCase",
    "LocationHints",
    "PetitionWindowRow",
    "ProvincialPetition",
    "parse_record",
    "to_utc",
]
