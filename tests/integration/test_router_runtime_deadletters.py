"""The runtime's own dead letters and its failure classification (no broker needed)."""

from __future__ import annotations

import orjson
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    ProducerFenced,
)

from router.processor import InputRecord
from router.runtime.deadletters import runtime_dead_letter
from router.runtime.faults import is_fenced, is_record_fault, needs_new_producer
from schemas.deadletter import DeadLetter


def _record(
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    headers: tuple[tuple[str, bytes], ...] = (),
) -> InputRecord:
    return InputRecord(topic, 1, 42, key, value, headers, 0)


def _letter(record: InputRecord) -> dict[str, object]:
    output = runtime_dead_letter(
        record,
        KeyError("陈小明 13800138000"),
        stage="dispatch",
        kind="processor_error",
        topic="dlq",
    )
    assert output.topic == "dlq"
    assert output.key == record.key
    assert b"13800138000" not in output.value
    assert "陈小明".encode() not in output.value
    document: dict[str, object] = orjson.loads(output.value)
    return document


def test_dead_letter_takes_the_channel_from_a_namespaced_raw_topic() -> None:
    letter = _letter(_record("t1.intake.raw.legal_stations", b"{oops", key=b"NS-001-7"))
    DeadLetter.model_validate(letter)
    assert letter["channel"] == "legal_stations"
    assert letter["external_id"] == "NS-001-7"
    assert letter["source"] == "t1.intake.raw.legal_stations-1-42"
    assert letter["raw"] == "{oops"
    assert letter["error"] == {
        "kind": "processor_error",
        "message": "dispatch stage: KeyError (exception text withheld)",
    }


def test_dead_letter_takes_channel_connector_and_id_from_the_value_or_headers() -> None:
    value = orjson.dumps(
        {"report": {"channel": "hotline_12351", "external_id": "H-9"}, "connector": "hl"}
    )
    letter = _letter(_record("unionhub.router.normalized", value, key=b"hotline_12351:H-9"))
    assert (letter["channel"], letter["connector"], letter["external_id"]) == (
        "hotline_12351",
        "hl",
        "H-9",
    )
    by_header = _letter(_record("x", b"[]", headers=(("channel", b"citizen_app"),)))
    assert by_header["channel"] == "citizen_app"


def test_dead_letter_of_an_unknown_channel_says_null_and_keeps_binary_raw() -> None:
    letter = _letter(_record("elsewhere", b"\xff\xfe"))
    assert letter["channel"] is None
    assert letter["connector"] == "unknown"
    assert (letter["raw"], letter["raw_encoding"]) == ("//4=", "base64")


def test_failures_are_classified_for_recovery() -> None:
    assert is_fenced(ProducerFenced())
    assert needs_new_producer(ProducerFenced())
    assert needs_new_producer(KafkaTimeoutError())
    assert not needs_new_producer(NotLeaderForPartitionError())
    assert is_record_fault(MessageSizeTooLargeError())
    assert is_record_fault(TypeError("value must be bytes"))
    assert not is_record_fault(KafkaConnectionError())
    assert not is_record_fault(NotLeaderForPartitionError())
