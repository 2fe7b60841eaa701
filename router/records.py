"""Helpers both router stages use on input records: where they came from, dead letters,
PII-free descriptions of validation errors."""

from __future__ import annotations

import hashlib
from datetime import datetime

import orjson
import structlog
from pydantic import ValidationError

from core.kafka.topics import TopicCatalog
from core.pii import mask_numbers
from router.processor import InputRecord, Output
from schemas.channels import Channel
from schemas.deadletter import DEADLETTER_SCHEMA, DeadLetter, DeadLetterError

log = structlog.get_logger(__name__)

# Below the producer's default max_request_size (1 MiB), leaving room for key and headers.
MAX_LETTER_BYTES = 960 * 1024


def source_of(record: InputRecord) -> str:
    """``<topic>-<partition>-<offset>``: where a dead-lettered record was read."""
    return f"{record.topic}-{record.partition}-{record.offset}"


def header(record: InputRecord, name: str) -> str | None:
    """The value of header ``name``, decoded, or None."""
    for key, value in record.headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None


def channel_guess(record: InputRecord, catalog: TopicCatalog) -> Channel | None:
    """The channel of an input record that could not be parsed: topic, header, or value."""
    for channel in Channel:
        if record.topic == catalog.raw(channel):
            return channel
    candidates = [header(record, "channel")]
    try:
        value = orjson.loads(record.value or b"")
        if isinstance(value, dict) and isinstance(value.get("channel"), str):
            candidates.append(value["channel"])
    except orjson.JSONDecodeError:
        pass
    known = {c.value for c in Channel}
    for candidate in candidates:
        if candidate is not None and candidate in known:
            return Channel(candidate)
    return None


def dead_letter(
    catalog: TopicCatalog,
    record: InputRecord,
    channel: Channel | None,
    connector: str,
    external_id: str | None,
    kind: str,
    message: str,
    now: datetime,
) -> Output:
    """A ``router.dlq`` record keeping ``record`` whole, with the reason (never PII).

    ``channel`` is None for a case action (``connector`` then names the actor).
    """
    raw, encoding = DeadLetter.encode_raw(record.value or b"")
    letter = DeadLetter(
        stage="router",
        channel=channel,
        connector=connector,
        external_id=external_id,
        error=DeadLetterError(kind=kind, message=message),
        raw=raw,
        raw_encoding=encoding,
        source=source_of(record),
        at=now,
    )
    log.warning("router_dead_letter", kind=kind, channel=channel, source=letter.source)
    headers = [("schema", DEADLETTER_SCHEMA.encode())]
    if channel is not None:
        headers.append(("channel", str(channel).encode()))
    return Output(
        topic=catalog.router_dlq,
        key=external_id.encode() if external_id else record.key,
        value=bounded_json(letter),
        headers=tuple(headers),
    )


def bounded_json(letter: DeadLetter, limit: int = MAX_LETTER_BYTES) -> bytes:
    """``letter`` as JSON, its ``raw`` cut (and the cut noted) if it would exceed ``limit``.

    Escaping the raw value as a JSON string can double it (quotes, backslashes),
    so a letter about an input near Kafka's 1 MiB limit would be refused by the
    broker; its length and SHA-256 in the message still identify the whole.
    """
    value = letter.to_json()
    if len(value) <= limit:
        return value
    whole = letter.raw.encode()
    digest = hashlib.sha256(whole).hexdigest()
    keep = len(letter.raw) // 2
    while True:
        keep -= keep % 4  # base64 stays decodable
        note = (
            f"{letter.error.message} (raw cut to its first {keep} characters of "
            f"{len(whole)} bytes, sha256 {digest}, to fit one Kafka message)"
        )
        error = DeadLetterError(kind=letter.error.kind, message=note)
        value = letter.model_copy(update={"raw": letter.raw[:keep], "error": error}).to_json()
        if len(value) <= limit or keep == 0:
            return value
        keep //= 2


def describe_validation_error(error: ValidationError) -> str:
    """Which fields failed and how, without the offending values (they may be PII)."""
    parts = []
    for err in error.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['type']}")
    return mask_numbers("; ".join(parts[:10]))
