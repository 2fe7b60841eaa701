"""Records and dead letters too large for a Kafka message become bounded dead letters.

A producer refuses a message over its ``max_request_size`` (1 MiB by
default); left alone, one huge upstream record would fail its transaction on
every poll and stall the connector for good. :func:`fit_messages` turns such a
record into a ``record_too_large`` dead letter whose ``raw`` keeps the start of
the record, and its length and SHA-256 in the message, so operators can still
tell what it was and fetch it again from the upstream. Oversized dead letters
are cut the same way (their kind kept).
"""

from __future__ import annotations

import hashlib

from schemas.deadletter import DeadLetter, DeadLetterError
from schemas.raw import RawEnvelope, utc_now

# Below aiokafka's default max_request_size (1 MiB), leaving room for key, headers
# and the record batch framing.
MAX_MESSAGE_BYTES = 960 * 1024
RAW_KEEP_CHARS = 256 * 1024  # the start of an oversized record kept in its dead letter


def fit_messages(
    records: list[RawEnvelope], letters: list[DeadLetter], limit: int = MAX_MESSAGE_BYTES
) -> tuple[list[RawEnvelope], list[DeadLetter]]:
    """``records`` and ``letters`` with every one over ``limit`` bytes made a bounded letter."""
    fitting: list[RawEnvelope] = []
    bounded: list[DeadLetter] = []
    for record in records:
        value = record.to_json()
        if len(value) <= limit:
            fitting.append(record)
        else:
            bounded.append(_shrink(_letter_of(record), value, limit))
    for letter in letters:
        if len(letter.to_json()) <= limit:
            bounded.append(letter)
        else:
            bounded.append(_shrink(letter, letter.raw.encode(), limit))
    return fitting, bounded


def _letter_of(record: RawEnvelope) -> DeadLetter:
    return DeadLetter(
        stage="intake",
        channel=record.channel,
        connector=record.connector,
        external_id=record.external_id,
        error=DeadLetterError(kind="record_too_large", message="record too large"),
        raw=record.to_json().decode(),
        source=record.source,
        at=utc_now(),
    )


def _shrink(letter: DeadLetter, whole: bytes, limit: int) -> DeadLetter:
    """``letter`` with ``raw`` cut to fit ``limit``; the message says what was cut."""
    digest = hashlib.sha256(whole).hexdigest()
    keep = RAW_KEEP_CHARS
    while True:
        keep -= keep % 4  # a base64 raw stays decodable
        note = (
            f"{letter.error.message}; the whole is {len(whole)} bytes (sha256 {digest}), "
            f"over the {limit}-byte message limit: raw holds its first {keep} characters"
        )
        error = DeadLetterError(kind=letter.error.kind, message=note)
        cut = letter.model_copy(update={"raw": letter.raw[:keep], "error": error})
        if len(cut.to_json()) <= limit or keep == 0:
            return cut
        keep //= 2
