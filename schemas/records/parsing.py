"""Which model validates which channel's record: :data:`RECORD_MODELS` and :func:`parse_record`.

The one place that knows all five channel models; kept apart from them so a
channel module knows only its own contract.
"""

from __future__ import annotations

from typing import Any

from schemas.channels import Channel
from schemas.records.citizen_app import CitizenAppRecord
from schemas.records.common import ChannelRecord
from schemas.records.hotline_12351 import HotlineWorkOrder
from schemas.records.legal_stations import LegalStationCase
from schemas.records.petition_window import PetitionWindowRow
from schemas.records.provincial_petition import ProvincialPetition

RECORD_MODELS: dict[Channel, type[ChannelRecord]] = {
    m.channel: m
    for m in (
        CitizenAppRecord,
        PetitionWindowRow,
        HotlineWorkOrder,
        ProvincialPetition,
        LegalStationCase,
    )
}


def parse_record(channel: Channel, record: dict[str, Any]) -> ChannelRecord:
    """Validate ``record`` as ``channel``'s model; raises ``ValidationError`` if it cannot."""
    return RECORD_MODELS[channel].model_validate(record)
