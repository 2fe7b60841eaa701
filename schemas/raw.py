"""The value of every ``intake.raw.<channel>`` message: one upstream record plus fetch metadata.

This is the contract between connectors (which write it) and the router
(which reads it). ``record`` holds the record as received: the JSON object for
JSON channels, header -> cell for a CSV row, element local name -> text (nested
for groups) for an XML element; ``raw_text`` keeps the original text of CSV
rows and XML elements for auditors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.channels import Channel

RAW_SCHEMA: Literal["unionhub.raw/1"] = "unionhub.raw/1"


class StationRef(BaseModel):
    """The legal-service station a ``legal_stations`` case came from."""

    model_config = ConfigDict(frozen=True)

    station_id: str = Field(description="Registry id, e.g. NS-001.")
    name: str = Field(description="Station name from the registry.")
    district: str = Field(
        description="The station's district as the registry names it, e.g. 南山区."
    )


class RawEnvelope(BaseModel):
    """One upstream record version as a connector fetched it."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.raw/1"] = Field(default=RAW_SCHEMA, alias="schema")
    channel: Channel = Field(description="Which upstream channel the record came from.")
    connector: str = Field(description="Name of the connector config that fetched it.")
    external_id: str = Field(description="The upstream's stable id (also the message key).")
    version: str = Field(
        description="The report.version label of dispatch.md: citizen_app version, "
        "petition_window <batch_id>#<revision> where this content first appeared, "
        "hotline_12351 update_time, provincial_petition BBH, legal_stations updated_at."
    )
    fetched_at: AwareDatetime = Field(description="When the connector received it (UTC).")
    source: str = Field(description="Where it was read: URL, batch id and revision, station.")
    station: StationRef | None = Field(default=None, description="legal_stations only.")
    record: dict[str, Any] = Field(description="The record as received (see module doc).")
    raw_text: str | None = Field(
        default=None, description="Original text of a CSV row or XML element, else null."
    )

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
