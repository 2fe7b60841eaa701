"""Dead letters (``unionhub.deadletter/1``) of ``intake.dlq`` and ``router.dlq``.

Anything that cannot be processed is kept whole, with the reason, never dropped.
"""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.channels import Channel

DEADLETTER_SCHEMA: Literal["unionhub.deadletter/1"] = "unionhub.deadletter/1"


class DeadLetterError(BaseModel):
    """Why a record could not be processed; ``message`` never holds PII in clear."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(
        description="Machine-readable class, e.g. csv_row_malformed, checksum_mismatch."
    )
    message: str = Field(description="Human-readable reason, naming the field at fault.")


class DeadLetter(BaseModel):
    """A record or row that could not be processed, kept with its reason and source."""

    model_config = ConfigDict(frozen=True)

    schema_: Literal["unionhub.deadletter/1"] = Field(default=DEADLETTER_SCHEMA, alias="schema")
    stage: Literal["intake", "router"]
    channel: Channel | None = Field(
        description="The upstream channel; null for a case action or a record naming none."
    )
    connector: str = Field(description="The connector, or the actor of a case action.")
    external_id: str | None = Field(default=None, description="Upstream id if it could be read.")
    error: DeadLetterError
    raw: str = Field(description="The record or row as text (base64 if not valid text).")
    raw_encoding: Literal["utf-8", "base64"] = "utf-8"
    source: str = Field(description="URL, batch id, or topic-partition-offset.")
    at: AwareDatetime = Field(description="When it was dead-lettered (UTC).")

    @staticmethod
    def encode_raw(data: bytes | str) -> tuple[str, Literal["utf-8", "base64"]]:
        """``raw`` and ``raw_encoding`` for bytes that may not be valid UTF-8."""
        if isinstance(data, str):
            return data, "utf-8"
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(data).decode("ascii"), "base64"

    def to_json(self) -> bytes:
        """UTF-8 JSON bytes as written to Kafka."""
        return self.model_dump_json(by_alias=True).encode()
