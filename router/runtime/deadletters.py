"""Dead letters the runtime itself writes, when a processor raises or the broker refuses an output.

Processors turn bad data into dead letters themselves; these are the last
resort, so a record is never dropped and never stops the stage. The reason
names the exception class only: an exception's text may quote the record,
and with it a name, a phone or an ID number.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from router.processor import InputRecord, Output
from schemas.channels import Channel
from schemas.deadletter import DEADLETTER_SCHEMA, DeadLetter, DeadLetterError

_RAW_PREFIX = "intake.raw."


def runtime_dead_letter(
    record: InputRecord, exc: BaseException, *, stage: str, kind: str, topic: str
) -> Output:
    """A ``router.dlq`` record keeping ``record`` whole, with ``exc``'s class as the reason."""
    raw, encoding = DeadLetter.encode_raw(record.value or b"")
    fields = _identify(record)
    letter = DeadLetter(
        stage="router",
        channel=fields.channel,
        connector=fields.connector or "unknown",
        external_id=fields.external_id,
        error=DeadLetterError(kind=kind, message=_reason(stage, exc)),
        raw=raw,
        raw_encoding=encoding,
        source=f"{record.topic}-{record.partition}-{record.offset}",
        at=datetime.now(UTC),
    )
    # A channel nothing names (not the topic, headers nor value) stays null rather than
    # guessed; records of intake.raw.* always name it.
    value = letter.to_json()
    headers = [("schema", DEADLETTER_SCHEMA.encode())]
    if fields.channel is not None:
        headers.append(("channel", fields.channel.value.encode()))
    return Output(topic=topic, key=record.key, value=value, headers=tuple(headers))


def _reason(stage: str, exc: BaseException) -> str:
    # The class only: an exception's text may quote the record's personal data.
    return f"{stage} stage: {type(exc).__name__} (exception text withheld)"


class _Identity:
    """What can be told about a record's origin without trusting its content."""

    def __init__(
        self, channel: Channel | None, connector: str | None, external_id: str | None
    ) -> None:
        self.channel = channel
        self.connector = connector
        self.external_id = external_id


def _identify(record: InputRecord) -> _Identity:
    headers = dict(record.headers)
    document = _json_object(record.value)
    channel = (
        _channel(headers.get("channel"))
        or _channel_of_topic(record.topic)
        or _channel(document.get("channel"))
        or _channel(_nested(document, "report", "channel"))
    )
    connector = _text(headers.get("connector")) or _text(document.get("connector"))
    external_id = (
        _text(document.get("external_id"))
        or _text(_nested(document, "report", "external_id"))
        or _text(record.key)
    )
    return _Identity(channel, connector, external_id)


def _json_object(value: bytes | None) -> dict[str, object]:
    if not value:
        return {}
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


def _nested(document: dict[str, object], outer: str, inner: str) -> object:
    value = document.get(outer)
    return value.get(inner) if isinstance(value, dict) else None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) and value else None


def _channel(value: object) -> Channel | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return Channel(text)
    except ValueError:
        return None


def _channel_of_topic(topic: str) -> Channel | None:
    # Topics may carry a namespace prefix: look for the marker anywhere.
    marker = topic.find(_RAW_PREFIX)
    if marker < 0:
        return None
    return _channel(topic[marker + len(_RAW_PREFIX) :])
