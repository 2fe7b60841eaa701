"""Hostile bodies and records for the JSON channels, fed straight to each connector's ``parse``.

A body the connector cannot read at all is a retried :class:`MalformedResponseError`
(the resolution table's "garbled response"); a readable body with bad records
yields one dead letter per bad record, and every good record still gets
through. No Kafka is needed: ``parse`` is pure (state changes only on adopt).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.base import SourceContext
from connectors.channels.citizen_app import CitizenAppSource
from connectors.channels.common import CST, dumps
from connectors.channels.hotline_12351 import HotlineSource
from connectors.channels.legal_registry import Station
from connectors.channels.legal_stations import LegalStationsSource
from connectors.channels.petition_window import PetitionWindowSource
from connectors.config import (
    CitizenAppConfig,
    Hotline12351Config,
    LegalStationsConfig,
    PetitionWindowConfig,
)
from connectors.errors import ConnectorError, MalformedResponseError
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page
from tests.hostile.fuzz import FUZZ
from tests.hostile.pii import ID_NUMBER, PHONE, SECRETS, leaks

CONTEXT = SourceContext(bootstrap="127.0.0.1:9", namespace="hostile.")  # never contacted
URL = "http://127.0.0.1:9"


def citizen() -> CitizenAppSource:
    config = CitizenAppConfig(
        name="c", base_url=URL, client_id="id", client_secret=SecretStr(SECRETS[0])
    )
    return CitizenAppSource(config, CONTEXT)


def hotline() -> HotlineSource:
    config = Hotline12351Config(
        name="h", base_url=URL, app_key="k", app_secret=SecretStr(SECRETS[0])
    )
    return HotlineSource(config, CONTEXT)


def stations() -> LegalStationsSource:
    config = LegalStationsConfig(name="l", registry_url=URL, token=SecretStr(SECRETS[1]))
    return LegalStationsSource(config, CONTEXT)


def appeal(**changes: Any) -> dict[str, Any]:
    item = {
        "appeal_id": "MY1", "version": 1, "submitted_at": "2025-05-23T14:00:00+08:00",
        "updated_at": "2025-05-23T14:05:00+08:00", "title": "欠薪", "content": "拖欠工资",
        "category_code": "LAB-WAGE", "status": "submitted",
        "appellant": {"name": "陈望", "mobile": PHONE, "id_no": ID_NUMBER},
    }  # fmt: skip
    item.update(changes)
    return item


def order(**changes: Any) -> dict[str, Any]:
    item = {
        "order_no": "RX1", "call_time": "2025-05-23 14:00:00", "update_time": "2025-05-23 14:05:00",
        "caller_name": "陈望", "caller_phone": PHONE, "caller_id_card": ID_NUMBER,
        "order_type": "欠薪", "content": "拖欠工资", "status": "待派单",
    }  # fmt: skip
    item.update(changes)
    return item


def case(**changes: Any) -> dict[str, Any]:
    item = {
        "case_id": "NS-1", "opened_at": "2025-05-23T14:00:00+08:00",
        "updated_at": "2025-05-23T14:05:00+08:00", "matter": "欠薪追讨", "stage": "咨询",
        "client": {"name": "陈望", "phone": PHONE, "id_number": ID_NUMBER},
    }  # fmt: skip
    item.update(changes)
    return item


def citizen_body(items: list[Any]) -> bytes:
    return orjson.dumps({"data": items, "next_cursor": "c1", "has_more": False})


def hotline_body(items: list[Any]) -> bytes:
    return orjson.dumps({"code": 0, "data": {"total": len(items), "list": items}})


def cases_body(items: list[Any]) -> bytes:
    return orjson.dumps({"cases": items, "next": None})


class Channel:
    """How to drive one JSON channel's ``check`` + ``parse`` with a body."""

    def __init__(
        self,
        name: str,
        make: Callable[[], HttpPollingSource],
        request: Callable[[HttpPollingSource], HttpRequest],
        wrap: Callable[[list[Any]], bytes],
        good: Callable[..., dict[str, Any]],
        id_field: str,
        time_field: str,
    ) -> None:
        self.name, self.make, self.request, self.wrap = name, make, request, wrap
        self.good, self.id_field, self.time_field = good, id_field, time_field
        self.source = make()

    def run(self, body: bytes, content_type: str = "application/json") -> Page:
        request = self.request(self.source)
        response = HttpResponse(200, {"content-type": content_type}, body, request.url)
        self.source.check(request, response)
        return self.source.parse(request, response)

    def __repr__(self) -> str:
        return self.name


def _hotline_request(source: HttpPollingSource) -> HttpRequest:
    assert isinstance(source, HotlineSource)
    start = datetime(2025, 5, 23, 14, tzinfo=CST)
    return source._page(start, start + timedelta(hours=1), 1)


def _station_request(_: HttpPollingSource) -> HttpRequest:
    station = Station("NS-001", "南山站", "南山区", URL)
    return HttpRequest(f"{URL}/cases", context={"kind": "cases", "station": station, "first": True})


CHANNELS = [
    Channel("citizen_app", citizen, lambda _: HttpRequest(f"{URL}/api/v2/appeals?limit=100"),
            citizen_body, appeal, "appeal_id", "updated_at"),
    Channel("hotline_12351", hotline, _hotline_request, hotline_body, order, "order_no",
            "update_time"),
    Channel("legal_stations", stations, _station_request, cases_body, case, "case_id",
            "updated_at"),
]  # fmt: skip

GARBLED_BODIES = [
    ("truncated JSON", lambda ch: ch.wrap([ch.good()])[:-7]),
    ("empty body", lambda _: b""),
    ("HTML error page", lambda _: b"<html><body>502 Bad Gateway</body></html>"),
    ("not UTF-8", lambda _: b'{"data": ["\xff\xfe"]}'),
    (
        "GBK bytes",
        lambda ch: ch.wrap([ch.good(content="陈")]).replace("陈".encode(), "陈".encode("gbk")),
    ),
    ("deep nesting", lambda _: b"[" * 5000 + b"]" * 5000),
    ("number overflow", lambda _: b'{"data": 1e400}'),
    ("big integer key", lambda _: b'{"data": {1: 2}}'),
    ("NaN", lambda _: b'{"data": NaN}'),
    ("JSON null", lambda _: b"null"),
    ("a list, not an object", lambda ch: orjson.dumps([ch.good()])),
    ("BOM", lambda ch: b"\xef\xbb\xbf" + ch.wrap([ch.good()])),
    ("lone surrogate", lambda _: b'{"data": ["\\ud800"]}'),
    ("trailing garbage", lambda ch: ch.wrap([ch.good()]) + b"}}"),
]


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
@pytest.mark.parametrize("make", [g[1] for g in GARBLED_BODIES], ids=[g[0] for g in GARBLED_BODIES])
def test_a_garbled_body_is_a_retried_malformed_response(
    channel: Channel, make: Callable[[Channel], bytes]
) -> None:
    with pytest.raises(MalformedResponseError) as raised:
        channel.run(make(channel))
    assert raised.value.retriable
    assert not leaks(str(raised.value))


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
@pytest.mark.parametrize(
    "content_type", ["text/html", "text/plain; charset=GBK", "application/xml", ""]
)
def test_a_wrong_content_type_with_a_json_body_is_read_as_json(
    channel: Channel, content_type: str
) -> None:
    # The contract fixes the format; the header is not trusted either way.
    page = channel.run(channel.wrap([channel.good()]), content_type)
    assert len(page.batch.records) == 1


def _bad_items(ch: Channel) -> list[tuple[str, Any, str]]:
    """(class, item, expected dead-letter kind) for ``ch``."""
    idf, vf = ch.id_field, ch.time_field
    items: list[tuple[str, Any, str]] = [
        ("not an object", [ch.good()], "not_an_object"),
        ("a string", "MY1", "not_an_object"),
        ("null", None, "not_an_object"),
        ("id missing", {k: v for k, v in ch.good().items() if k != idf}, "missing_id"),
        ("id a number", ch.good(**{idf: 123}), "missing_id"),
        ("id empty", ch.good(**{idf: ""}), "missing_id"),
        ("id a list", ch.good(**{idf: ["MY1"]}), "missing_id"),
    ]
    if ch.name == "citizen_app":
        items += [
            ("version 0", ch.good(version=0), "invalid_version"),
            ("version negative", ch.good(version=-5), "invalid_version"),
            ("version bool", ch.good(version=True), "invalid_version"),
            ("version text", ch.good(version="1"), "invalid_version"),
            ("version float", ch.good(version=1.5), "invalid_version"),
            ("version huge float", ch.good(version=1e300), "invalid_version"),
        ]
    bad_times = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2025-02-30T10:00:00",
                 "yesterday", "", "2025-05-23T25:00:00", "\u202e2025-05-23"]  # fmt: skip
    if ch.name == "hotline_12351":
        bad_times = ["0001-01-01 00:00:00", "9999-12-31 23:59:59", "2025-02-30 10:00:00",
                     "2025-05-23T14:05:00", "", "1748000000"]  # fmt: skip
    items += [(f"{vf} {t!r}", ch.good(**{vf: t}), "invalid_timestamp") for t in bad_times]
    items += [(f"{vf} a number", ch.good(**{vf: 1748000000}), "invalid_timestamp")]
    items += [(f"{vf} a 30-digit number", ch.good(**{vf: 1e30}), "invalid_timestamp")]
    return items


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_each_bad_record_is_a_dead_letter_and_good_ones_pass(channel: Channel) -> None:
    bad = _bad_items(channel)
    good = channel.good(**{channel.id_field: "GOOD-1"})
    page = channel.run(channel.wrap([good] + [item for _, item, _ in bad]))
    assert [r.external_id for r in page.batch.records] == ["GOOD-1"]
    kinds = [letter.error.kind for letter in page.batch.dead_letters]
    assert kinds == [kind for _, _, kind in bad], [name for name, _, _ in bad]
    for letter in page.batch.dead_letters:
        assert not leaks(letter.error.message)
        assert letter.stage == "intake"


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_control_characters_bidi_and_huge_fields_are_kept_as_received(channel: Channel) -> None:
    hostile = "拖欠\u202e工资\u0000\u0007\u2066\u200b" + "欠" * 3_500_000  # over 10 MB as UTF-8
    page = channel.run(channel.wrap([channel.good(content=hostile, summary=hostile)]))
    (record,) = page.batch.records
    assert hostile in record.record.values()


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_duplicate_keys_keep_the_last_value(channel: Channel) -> None:
    body = channel.wrap([channel.good(**{channel.id_field: "FIRST"})])
    body = body.replace(b"FIRST", b'FIRST", "' + channel.id_field.encode() + b'": "LAST')
    (record,) = channel.run(body).batch.records
    assert record.external_id == "LAST"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def _fields(ch: Channel) -> st.SearchStrategy[dict[str, Any]]:
    """A good record with some fields replaced by arbitrary JSON."""
    keys = st.sampled_from(sorted(ch.good()))
    return st.dictionaries(keys, JSON, max_size=4).map(lambda changes: ch.good(**changes))


def _check_page(channel: Channel, items: list[Any]) -> None:
    """Every item is a record, a dead letter, or a repeat of a version written just before."""
    try:
        page = channel.run(channel.wrap(items))
    except ConnectorError as exc:  # a readable body must never fail as a whole
        pytest.fail(f"{type(exc).__name__} for a readable body: {exc}")
    written = [r.record for r in page.batch.records]
    written_ids = {r.external_id for r in page.batch.records}
    dead = [letter.raw for letter in page.batch.dead_letters]
    for item in items:
        if item in written or dumps(item) in dead:
            continue
        assert isinstance(item, dict), item
        assert item.get(channel.id_field) in written_ids, item  # the ledger's documented drop
    for letter in page.batch.dead_letters:
        assert not leaks(letter.error.message)


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
@FUZZ
@given(data=st.data())
def test_fuzz_records_of_arbitrary_json(channel: Channel, data: st.DataObject) -> None:
    items = data.draw(st.lists(_fields(channel) | JSON, max_size=5))
    _check_page(channel, items)


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_arbitrary_bodies_only_malformed_response(channel: Channel, body: bytes) -> None:
    problem = ""
    try:
        channel.run(body)
    except MalformedResponseError as exc:
        problem = str(exc)
    except ConnectorError as exc:  # a readable body whose business code is not success
        problem = f"{channel.name}: {exc}"
        if channel.name != "hotline_12351":
            raise
    assert not leaks(problem)


# -- the legal_stations registry and the petition_window listing -------------------------


def _registry(source: LegalStationsSource, body: bytes) -> dict[str, Station]:
    request = HttpRequest(f"{URL}/stations", context={"kind": "registry"})
    page = source.parse(request, HttpResponse(200, {}, body, request.url))
    page.adopt()
    return source.stations


GOOD_STATION = {"station_id": "NS-001", "name": "南山站", "district": "南山区", "base_url": URL}
DEEP = b"[" * 1000 + b"]" * 1000  # orjson reads it; str() of it raises RecursionError
BAD_STATIONS: list[tuple[str, bytes]] = [
    ("not an object", b'["NS-002"]'),
    ("station_id missing", orjson.dumps({"base_url": URL})),
    ("station_id nested 1000 deep",
     b'{"station_id": ' + DEEP + b', "base_url": "' + URL.encode() + b'"}'),
    ("station_id an object", orjson.dumps({**GOOD_STATION, "station_id": {"a": "b" * 100_000}})),
    ("station_id a bool", orjson.dumps({**GOOD_STATION, "station_id": True})),
    ("base_url missing", orjson.dumps({"station_id": "NS-003"})),
    ("base_url file://", orjson.dumps({"station_id": "NS-004", "base_url": "file:///etc/passwd"})),
    ("base_url a list", orjson.dumps({"station_id": "NS-005", "base_url": [URL]})),
]  # fmt: skip


def test_hostile_registry_entries_are_skipped_and_good_ones_kept() -> None:
    body = b"[" + b", ".join([orjson.dumps(GOOD_STATION), *(e for _, e in BAD_STATIONS)]) + b"]"
    source = stations()
    assert sorted(_registry(source, body)) == ["NS-001"]
    odd = {**GOOD_STATION, "station_id": 7, "name": ["x"], "district": None}
    assert sorted(_registry(source, orjson.dumps([odd]))) == ["7"]


@pytest.mark.parametrize("make", [g[1] for g in GARBLED_BODIES], ids=[g[0] for g in GARBLED_BODIES])
def test_a_garbled_registry_is_a_malformed_response(make: Callable[[Channel], bytes]) -> None:
    body = make(CHANNELS[2])
    if body.startswith(b"[") and not body.startswith(b"[" * 2):  # a list of cases: readable
        return
    with pytest.raises(MalformedResponseError):
        _registry(stations(), body)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(sorted(GOOD_STATION)), JSON) | JSON, max_size=5))
def test_fuzz_registry_entries(entries: list[Any]) -> None:
    for station in _registry(stations(), orjson.dumps(entries)).values():
        assert station.base_url.startswith(("http://", "https://"))


def _listing(body: bytes) -> list[HttpRequest]:
    config = PetitionWindowConfig(name="w", base_url=URL, api_key=SecretStr(SECRETS[0]))
    source = PetitionWindowSource(config, CONTEXT)
    request = HttpRequest(f"{URL}/exports", context={"kind": "list"})
    return source.parse(request, HttpResponse(200, {}, body, request.url)).follow


@pytest.mark.parametrize(
    "body",
    [
        b"", b"<html/>", b"[" * 5000 + b"]" * 5000, b"{}", b"[1]", b'[{"batch_id": 1}]',
        b'[{"batch_id": "b", "revision": "1", "sha256": "x"}]',
        b'[{"batch_id": "b", "revision": 1, "sha256": null}]',
    ],
)  # fmt: skip
def test_a_hostile_petition_listing_is_a_malformed_response(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        _listing(body)


def test_hostile_batch_ids_are_percent_encoded_into_one_path_segment() -> None:
    entries = [
        {"batch_id": b, "revision": 1, "sha256": "AB"} for b in ("../../admin", "a?b#c", "\u202e")
    ]
    urls = [r.url for r in _listing(orjson.dumps(entries))]
    assert urls == [
        f"{URL}/exports/..%2F..%2Fadmin.csv",
        f"{URL}/exports/a%3Fb%23c.csv",
        f"{URL}/exports/%E2%80%AE.csv",
    ]


def test_a_cursor_that_does_not_move_ends_the_poll_instead_of_paging_forever() -> None:
    source = citizen()
    body = {"data": [], "next_cursor": "same", "has_more": True}
    request = HttpRequest(f"{URL}/api/v2/appeals?limit=100")
    page = source.parse(request, HttpResponse(200, {}, orjson.dumps(body), request.url))
    assert len(page.follow) == 1  # the cursor moved (none -> "same"): follow it
    page.adopt()
    again = source.parse(page.follow[0], HttpResponse(200, {}, orjson.dumps(body), request.url))
    assert again.follow == []


def test_a_next_link_to_the_same_page_ends_the_poll_instead_of_paging_forever() -> None:
    request = _station_request(stations())
    body = orjson.dumps({"cases": [], "next": request.url})
    assert stations().parse(request, HttpResponse(200, {}, body, request.url)).follow == []
