"""Helpers both router stages use on input records: where they came from, dead letters."""

from __future__ import annotations

from datetime import datetime

import orjson
import structlog

from router.normalize.errors import NormalizeError
from router.processor import InputRecord, Output
from schemas.channels import Channel
from schemas.deadletter import DEADLETTER_SCHEMA, DeadLetter, DeadLetterError
from unionhub.kafka.topics import TopicCatalog

log = structlog.get_logger(__name__)


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
    channel: Channel,
    connector: str,
    external_id: str | None,
    kind: str,
    message: str,
    now: datetime,
) -> Output:
    """A ``router.dlq`` record keeping ``record`` whole, with the reason (never PII)."""
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
    log.warning("router_dead_letter", kind=kind, channel=str(channel), source=letter.source)
    return Output(
        topic=catalog.router_dlq,
        key=external_id.encode() if external_id else record.key,
        value=letter.to_json(),
        headers=(("schema", DEADLETTER_SCHEMA.encode()), ("channel", str(channel).encode())),
    )


class UnreadableRecordError(NormalizeError):
    """An input record whose channel cannot even be told (not a router input)."""
