"""Hostile raw envelopes at router stage 1: always one output, a dead letter naming the field.

``build_normalize_processor(settings).process`` must never raise for a record
read from an ``intake.raw.*`` topic: whatever the bytes, the result is one
normalised report or one ``router.dlq`` dead letter whose message names the
field at fault and holds no personal number.
"""

from __future__ import annotations

import base64
import tracemalloc
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.processor import InputRecord, Output, Processor
from router.records import MAX_LETTER_BYTES
from router.stages import build_normalize_processor
from schemas.channels import Channel
from schemas.deadletter import DeadLetter
from schemas.identifiers import id_number_check_char
from tests.hostile.fuzz import FUZZ
from tests.hostile.pii import ID_NUMBER, PHONE, leaks
from tests.unit.router_builders import (
    appeal,
    envelope,
    hotline_order,
    petition_row,
    provincial_petition,
    station_case,
)

CATALOG = TopicCatalog("hostile.")
KINDS = {"envelope_invalid", "record_invalid", "id_mismatch", "unknown_category", "unknown_status"}


@pytest.fixture(scope="module")
def processor() -> Processor:
    return build_normalize_processor(Settings(namespace="hostile."))


def record_of(value: bytes | None, channel: Channel = Channel.CITIZEN_APP) -> InputRecord:
    return InputRecord(CATALOG.raw(channel), 0, 7, b"key-1", value, (), 0)


def one(
    processor: Processor, value: bytes | None, channel: Channel = Channel.CITIZEN_APP
) -> Output:
    outputs = processor.process(record_of(value, channel))
    assert len(outputs) == 1
    return outputs[0]


def letter_of(output: Output) -> DeadLetter:
    assert output.topic == CATALOG.router_dlq
    letter = DeadLetter.model_validate_json(output.value)
    assert letter.stage == "router"
    assert not leaks(letter.error.message)
    return letter


def raw_bytes(letter: DeadLetter) -> bytes:
    """The bytes a dead letter's ``raw`` holds."""
    if letter.raw_encoding == "base64":
        return base64.b64decode(letter.raw)
    return letter.raw.encode()


def good(**changes: Any) -> dict[str, Any]:
    """A valid citizen_app envelope (as JSON) with a personal ID and phone in it."""
    record = appeal(phone=PHONE, id_no=ID_NUMBER)
    record.update(changes.pop("record", None) or {})
    data = envelope(Channel.CITIZEN_APP, record, "MY1", "1").model_dump(mode="json", by_alias=True)
    data.update(changes)
    return data


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)


_BAD_ID = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")


def env(**changes: Any) -> bytes:
    """A good envelope with top-level fields replaced."""
    return dumps({**good(), **changes})


def rec(**changes: Any) -> bytes:
    """A good envelope with record fields replaced."""
    return dumps(good(record=changes))


WHOLE: list[tuple[str, bytes | None, str, str]] = [
    # (class, value, dead-letter kind, what the message must name)
    ("no value (tombstone)", None, "envelope_invalid", "no value"),
    ("empty", b"", "envelope_invalid", "not JSON"),
    ("truncated JSON", dumps(good())[:-9], "envelope_invalid", "not JSON"),
    ("not UTF-8", b'{"channel": "\xff\xfe"}', "envelope_invalid", "not JSON"),
    ("GBK text", '{"channel": "市民"}'.encode("gbk"), "envelope_invalid", "not JSON"),
    ("deep nesting", b"[" * 3000 + b"]" * 3000, "envelope_invalid", "not JSON"),
    ("NaN", dumps(good()).replace(b'"version":"1"', b'"version":NaN'), "envelope_invalid", "JSON"),
    ("a JSON list", dumps([good()]), "envelope_invalid", "record"),
    ("a JSON string", b'"hello"', "envelope_invalid", "record"),
    ("channel missing", dumps({**good(), "channel": None}), "envelope_invalid", "channel"),
    ("channel unknown", env(channel="fax"), "envelope_invalid", "channel"),
    ("fetched_at naive", env(fetched_at="2025-05-23T14:00:00"), "envelope_invalid", "fetched_at"),
    ("fetched_at year 0", env(fetched_at="0000-01-01T00:00:00Z"), "envelope_invalid", "fetched_at"),
    ("record a list", env(record=[1]), "envelope_invalid", "record"),
    ("record null", env(record=None), "envelope_invalid", "record"),
    ("external_id a number", env(external_id=7), "envelope_invalid", "external_id"),
    ("wrong schema", env(schema="unionhub.raw/9"), "envelope_invalid", "schema"),
    ("id mismatch", env(external_id="OTHER"), "id_mismatch", "external_id"),
]
# (class, record field, hostile value): each a record_invalid dead letter naming the field
FIELDS: list[tuple[str, str, Any]] = [
    ("id missing", "appeal_id", None),
    ("year 1 at +14:00", "submitted_at", "0001-01-01T00:00:00+14:00"),
    ("year 9999 at -14:00", "submitted_at", "9999-12-31T23:59:59-14:00"),
    ("naive year 1", "submitted_at", "0001-01-01 00:00:00"),
    ("Feb 30", "submitted_at", "2025-02-30T10:00:00"),
    ("epoch number", "submitted_at", 1748000000),
    ("bidi in a time", "updated_at", "\u202e2025-05-23T10:00:00"),
    ("version 0", "version", 0),
    ("people 0", "people_involved", 0),
    ("people -1", "people_involved", -1),
    ("people 10^9", "people_involved", 10**9),
    ("people 1.5", "people_involved", 1.5),
    ("people true", "people_involved", True),
    ("people ①", "people_involved", "①"),
    ("people 5000 digits", "people_involved", "9" * 5000),
    ("people 1e300", "people_involved", 1e300),
    ("content a dict", "content", {"a": 1}),
    ("10 MB content", "content", "欠" * 3_500_000),
    ("appellant a list", "appellant", ["x"]),
]
HOSTILE = (
    WHOLE
    + [
        (f"{field}: {name}", rec(**{field: value}), "record_invalid", field)
        for name, field, value in FIELDS
    ]
    + [
        ("unknown category", rec(category_code="LAB-\u202eWAGE"), "unknown_category", "category"),
        ("unknown status", rec(status="closed\x00"), "unknown_status", "status"),
    ]
)


@pytest.mark.parametrize(
    ("value", "kind", "names"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_envelopes_become_dead_letters_naming_the_field(
    processor: Processor, value: bytes | None, kind: str, names: str
) -> None:
    letter = letter_of(one(processor, value))
    assert letter.error.kind == kind
    assert names in letter.error.message
    assert letter.source == f"{CATALOG.raw(Channel.CITIZEN_APP)}-0-7"
    if len(value or b"") < MAX_LETTER_BYTES // 2:
        assert raw_bytes(letter) == (value or b"")  # kept whole
    else:  # kept as far as one Kafka message allows, the cut noted
        assert (value or b"").startswith(raw_bytes(letter))
        assert "sha256" in letter.error.message


def test_bytes_that_are_not_utf8_are_kept_base64(processor: Processor) -> None:
    letter = letter_of(one(processor, b"\xff\xfe\x00garbage"))
    assert letter.raw_encoding == "base64"


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("duplicate keys: last wins", {}),  # see the test body
    ("ID with a wrong check digit", {"record": {"appellant": {"id_no": _BAD_ID, "mobile": PHONE}}}),
    ("control chars and bidi in text", {"record": {"content": "欠薪\u202e\u2066\x00\x07\x1b[2J"}}),
    ("30-digit version label", {"version": "9" * 30, "record": {"version": 1}}),
    ("5000-digit version label", {"version": "9" * 5000}),
    ("version label ²", {"version": "²"}),
    ("huge float coordinates", {"record": {"location": {"lng": 1e308, "lat": -1e308}}}),
    ("extra unknown fields", {"record": {"__proto__": {"x": 1}, "constructor": None}}),
]


@pytest.mark.parametrize("changes", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_odd_but_readable_envelopes_are_normalised(
    processor: Processor, changes: dict[str, Any]
) -> None:
    value = dumps(good(**changes))
    if not changes:  # duplicate keys: a JSON object naming external_id twice
        value = value.replace(b'"external_id":"MY1"', b'"external_id":"X","external_id":"MY1"')
    output = one(processor, value)
    assert output.topic == CATALOG.router_normalized
    assert ID_NUMBER.encode() not in output.value
    assert PHONE.encode() not in output.value


def test_an_invalid_id_number_is_unknown_not_a_person_key(processor: Processor) -> None:
    assert id_number_check_char(_BAD_ID[:17]) != _BAD_ID[17]
    value = dumps(good(record={"appellant": {"name": "陈望", "id_no": _BAD_ID}}))
    report = orjson.loads(one(processor, value).value)
    assert report["complainant"]["name_masked"] == "陈*"
    assert report["person_tokens"] == []  # nothing to match the person by


def test_absurd_version_times_of_hotline_sort_as_text(processor: Processor) -> None:
    order = hotline_order("GD9")
    value = envelope(Channel.HOTLINE_12351, order, "GD9", "0001-01-01T00:00:00+14:00").to_json()
    output = one(processor, value, Channel.HOTLINE_12351)
    assert output.topic == CATALOG.router_normalized


def test_a_10_mb_field_stays_within_bounded_memory(processor: Processor) -> None:
    value = dumps(good(record={"content": "欠" * 3_500_000}))
    tracemalloc.start()
    try:
        output = one(processor, value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert letter_of(output).error.kind == "record_invalid"
    # Measured about 14x the input (the JSON parse, the dead letter's copy of the raw
    # value and its serialisation); before the text cap it was 60x and took 30 s.
    assert peak < 20 * len(value), f"peak {peak} bytes for a {len(value)}-byte value"


def _check(processor: Processor, value: bytes, channel: Channel) -> None:
    output = one(processor, value, channel)
    if output.topic == CATALOG.router_dlq:
        assert letter_of(output).error.kind in KINDS
    else:
        assert output.topic == CATALOG.router_normalized
        assert ID_NUMBER.encode() not in output.value


CHANNEL = st.sampled_from(list(Channel))


@FUZZ
@given(value=st.binary(max_size=300), channel=CHANNEL)
def test_fuzz_arbitrary_bytes(processor: Processor, value: bytes, channel: Channel) -> None:
    _check(processor, value, channel)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip

RECORDS = {
    Channel.CITIZEN_APP: (appeal(phone=PHONE, id_no=ID_NUMBER), "appeal_id", "version"),
    Channel.PETITION_WINDOW: (petition_row(), "登记编号", None),
    Channel.HOTLINE_12351: (hotline_order(), "order_no", "update_time"),
    Channel.PROVINCIAL_PETITION: (provincial_petition(), "XFJBH", "BBH"),
    Channel.LEGAL_STATIONS: (station_case(), "case_id", "updated_at"),
}


@FUZZ
@given(value=JSON, channel=CHANNEL)
def test_fuzz_arbitrary_json(processor: Processor, value: Any, channel: Channel) -> None:
    _check(processor, orjson.dumps(value), channel)


@FUZZ
@given(data=st.data(), channel=CHANNEL)
def test_fuzz_fields_of_valid_records(
    processor: Processor, data: st.DataObject, channel: Channel
) -> None:
    record, id_field, version_field = RECORDS[channel]
    changes = data.draw(
        st.dictionaries(st.sampled_from(sorted(record)), JSON | st.text(), max_size=3)
    )
    mutated = {**record, **changes}
    external_id = str(mutated.get(id_field))
    version = str(mutated.get(version_field)) if version_field else "B1#1"
    value = envelope(channel, mutated, external_id, version).to_json()
    _check(processor, value, channel)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(sorted(good())), JSON, max_size=3))
def test_fuzz_fields_of_the_envelope(processor: Processor, changes: dict[str, Any]) -> None:
    _check(processor, dumps({**good(), **changes}), Channel.CITIZEN_APP)


@pytest.mark.parametrize(
    "filler",
    ['"', "\\", "\x01", "欠"],
    ids=["quotes", "backslashes", "control characters", "CJK"],
)
def test_a_dead_letter_about_a_near_limit_input_still_fits_one_message(
    processor: Processor, filler: str
) -> None:
    # Escaping the raw value inside the letter can double it: a 900 KB input of quotes
    # would make a 1.8 MB letter that the broker refuses, stalling the stage.
    content = filler * 10
    while len(dumps(good(record={"content": content}))) < 900_000:
        content *= 2
    value = dumps(good(record={"content": content}))[:950_000]  # and truncated: not JSON
    for hostile in (value, dumps(good(record={"content": content[: len(content) // 2]}))):
        output = one(processor, hostile)
        assert len(output.value) <= MAX_LETTER_BYTES
        letter = letter_of(output)
        assert hostile.startswith(raw_bytes(letter))
        assert (raw_bytes(letter) != hostile) == ("sha256" in letter.error.message)
