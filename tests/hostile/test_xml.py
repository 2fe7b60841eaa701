"""Hostile provincial_petition XML: refused as unsafe or malformed, never expanded or crashing."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.base import SourceContext
from connectors.channels.common import CST
from connectors.channels.petition_xml import (
    MAX_DEPTH,
    NAMESPACE,
    PetitionElement,
    TooMany,
    UnsafeXmlError,
    UpstreamError,
    XmlSyntaxError,
    parse_query_result,
)
from connectors.channels.provincial_petition import ProvincialPetitionSource
from connectors.config import ProvincialPetitionConfig
from connectors.errors import MalformedResponseError
from connectors.http import HttpResponse, Page
from tests.hostile.fuzz import FUZZ
from tests.hostile.pii import ID_NUMBER, PHONE, SECRETS, leaks

PETITION = (
    "<xf:Petition><xf:XFJBH>GD1</xf:XFJBH><xf:BBH>1</xf:BBH>"
    "<xf:DJSJ>2025-05-23T14:05:00</xf:DJSJ>"
    f"<xf:XFR><xf:XM>陈望</xf:XM><xf:ZJHM>{ID_NUMBER}</xf:ZJHM><xf:LXDH>{PHONE}</xf:LXDH></xf:XFR>"
    "<xf:NRFL>劳动社保-拖欠工资</xf:NRFL><xf:XFMD>{text}</xf:XFMD></xf:Petition>"
)


def document(body: str = "", prolog: str = "") -> bytes:
    inner = body or PETITION.replace("{text}", "拖欠工资")
    return f'{prolog}<xf:QueryResult xmlns:xf="{NAMESPACE}">{inner}</xf:QueryResult>'.encode()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _external(tmp: Path) -> str:
    secret = tmp / "secret.txt"
    secret.write_text("hostile-secret-7f3a")
    return f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'


UNSAFE = [
    ("billion laughs", lambda _: document("<xf:Petition>&lol9;</xf:Petition>", BILLION_LAUGHS)),
    ("external entity", lambda tmp: document("<xf:Petition>&xxe;</xf:Petition>", _external(tmp))),
    (
        "parameter entity",
        lambda _: document(prolog='<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'),
    ),
    ("bare DTD", lambda _: document(prolog="<!DOCTYPE QueryResult>")),
    (
        "external DTD",
        lambda _: document(prolog='<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">'),
    ),
    ("deep nesting", lambda _: document("<a>" * 5000 + "x" + "</a>" * 5000)),
    (
        "just over the depth limit",
        lambda _: document("<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH),
    ),
]


@pytest.mark.parametrize("make", [u[1] for u in UNSAFE], ids=[u[0] for u in UNSAFE])
def test_unsafe_documents_are_refused_unexpanded(
    make: Callable[[Path], bytes], tmp_path: Path
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeXmlError) as raised:
            parse_query_result(make(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    assert not leaks(str(raised.value))


def test_nesting_at_the_limit_is_parsed() -> None:
    depth = MAX_DEPTH - 2  # QueryResult and Petition count too
    result = parse_query_result(
        document("<xf:Petition>" + "<a>" * depth + "x" + "</a>" * depth + "</xf:Petition>")
    )
    assert isinstance(result, list)
    assert len(result) == 1


MALFORMED = [
    ("truncated", document()[:-40]),
    ("empty", b""),
    ("not XML", b'{"error": "busy"}'),
    ("HTML error page", b"<html><body><h1>502 Bad Gateway</h1></body>"),
    ("unknown encoding", b'<?xml version="1.0" encoding="x-klingon"?>' + document()),
    (
        "declared UTF-8, bytes GBK",
        document().replace("拖欠工资".encode(), "拖欠工资".encode("gbk")),
    ),
    ("NUL byte", document().replace(b"GD1", b"GD\x001")),
    ("control character", document().replace(b"GD1", b"GD\x071")),
    ("wrong root", f'<xf:Other xmlns:xf="{NAMESPACE}"/>'.encode()),
    ("two roots", document() + document()),
]


@pytest.mark.parametrize("data", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_documents_are_syntax_errors(data: bytes) -> None:
    with pytest.raises(XmlSyntaxError) as raised:
        parse_query_result(data)
    assert not leaks(str(raised.value))


def test_error_answers_with_absurd_limits_are_read_safely() -> None:
    for limit, expected in (("500", 500), ("²", None), ("9" * 5000, None), ("-1", None)):
        body = f'<xf:Error xmlns:xf="{NAMESPACE}" code="TOO_MANY" limit="{limit}"/>'.encode()
        assert parse_query_result(body) == TooMany(expected)
    assert parse_query_result(f'<Error code="{"x" * 1000}"/>'.encode()) == UpstreamError("x" * 1000)


def test_bidi_overrides_and_control_character_references_are_data() -> None:
    text = "拖欠\u202e工资\u2066x\u2069&#9;"
    (petition,) = _petitions(document(PETITION.replace("{text}", text)))
    assert petition.fields["XFMD"] == "拖欠\u202e工资\u2066x\u2069"  # stripped at the ends


def test_duplicate_elements_keep_the_last_one() -> None:
    body = PETITION.replace("{text}", "x").replace(
        "<xf:BBH>1</xf:BBH>", "<xf:BBH>1</xf:BBH><xf:BBH>2</xf:BBH>"
    )
    (petition,) = _petitions(document(body))
    assert petition.fields["BBH"] == "2"


def test_a_10_mb_text_is_parsed_within_bounded_memory() -> None:
    data = document(PETITION.replace("{text}", "欠" * 3_500_000))
    tracemalloc.start()
    try:
        (petition,) = _petitions(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(petition.fields["XFMD"]) == 3_500_000
    assert peak < 8 * len(data), f"peak {peak} bytes for a {len(data)}-byte document"


def _petitions(data: bytes) -> list[PetitionElement]:
    result = parse_query_result(data)
    assert isinstance(result, list)
    return result


def _check(data: bytes) -> None:
    try:
        result = parse_query_result(data)
    except (UnsafeXmlError, XmlSyntaxError) as exc:
        problem = str(exc)
    else:
        problem = ""
        assert isinstance(result, list | TooMany | UpstreamError)
    assert not leaks(problem)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _check(data)


XML_PIECES = st.sampled_from(
    [
        "<xf:Petition>", "</xf:Petition>", "<a>", "</a>", "<xf:XFJBH>", "</xf:XFJBH>", "&amp;",
        "&lol;", "<![CDATA[", "]]>", "<!--", "-->", "<!DOCTYPE x>", '<!ENTITY e "v">', "<?pi x?>",
        "&#0;", "&#x202e;", "\u202e", "\x00", "欠", " ", '"', "'", "=", "<b c='1' c='2'/>",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(XML_PIECES | st.text(max_size=5), max_size=30).map("".join))
def test_fuzz_xml_like_fragments_inside_a_query_result(body: str) -> None:
    _check(document(body))


# -- through the connector ------------------------------------------------------------


def _provincial() -> ProvincialPetitionSource:
    config = ProvincialPetitionConfig(
        name="p", base_url="http://127.0.0.1:9", username="u", password=SecretStr(SECRETS[0])
    )
    return ProvincialPetitionSource(config, SourceContext(bootstrap="127.0.0.1:9", namespace="h."))


def _window_page(source: ProvincialPetitionSource, body: bytes) -> Page:
    start = datetime(2025, 5, 23, 14, tzinfo=CST)
    # Not yet final (within the late-arrival horizon): the window will be read again.
    request = source._window(
        start, start + timedelta(hours=1), start + timedelta(hours=1, minutes=1)
    )
    return source.parse(request, HttpResponse(200, {}, body, request.url))


@pytest.mark.parametrize(
    "body",
    [
        document("<xf:Petition>&lol9;</xf:Petition>", BILLION_LAUGHS),
        document("<a>" * 5000 + "</a>" * 5000),
    ],
    ids=["billion laughs", "deep nesting"],
)
def test_the_connector_dead_letters_an_unsafe_response_once_and_moves_on(body: bytes) -> None:
    source = _provincial()
    page = _window_page(source, body)
    (letter,) = page.batch.dead_letters
    assert letter.error.kind == "xml_unsafe"
    assert not leaks(letter.error.message)
    page.adopt()
    assert _window_page(source, body).batch.dead_letters == []  # a re-read does not repeat it


def test_the_connector_retries_a_malformed_response() -> None:
    with pytest.raises(MalformedResponseError):
        _window_page(_provincial(), document()[:-30])


def test_the_connector_dead_letters_petitions_with_absurd_fields() -> None:
    bad = [
        PETITION.replace("{text}", "x").replace("<xf:BBH>1</xf:BBH>", f"<xf:BBH>{v}</xf:BBH>")
        for v in ("①", "9" * 5000, "-1", "")
    ] + [
        PETITION.replace("{text}", "x").replace("2025-05-23T14:05:00", t)
        for t in ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "2025-02-30T10:00:00")
    ]
    good = PETITION.replace("{text}", "x").replace("GD1", "GOOD")
    page = _window_page(_provincial(), document("".join([good, *bad])))
    assert [r.external_id for r in page.batch.records] == ["GOOD"]
    kinds = [letter.error.kind for letter in page.batch.dead_letters]
    assert kinds == ["invalid_version"] * 4 + ["invalid_timestamp"] * 3
