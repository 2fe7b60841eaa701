"""Provincial XML is parsed as untrusted: no DTDs, no entities; TOO_MANY recognised."""

from __future__ import annotations

import pytest

from connectors.channels.petition_xml import (
    TooMany,
    UnsafeXmlError,
    UpstreamError,
    XmlSyntaxError,
    parse_query_result,
)

BODY = """<?xml version="1.0" encoding="UTF-8"?>
<xf:QueryResult xmlns:xf="http://xf.gd.gov.cn/schema/petition/1.0"
                from="2025-05-23T14:00:00" to="2025-05-23T15:00:00" count="1">
  <xf:Petition>
    <xf:XFJBH>44030020250523000123</xf:XFJBH>
    <xf:BBH>2</xf:BBH>
    <xf:DJSJ>2025-05-23T14:05:09</xf:DJSJ>
    <xf:XFR><xf:XM>陈望</xf:XM><xf:ZJHM></xf:ZJHM><xf:LXDH>13812345678</xf:LXDH></xf:XFR>
    <xf:WTSD>深圳市南山区</xf:WTSD>
    <xf:XFMD><![CDATA[老板<欠薪> & 跑路]]></xf:XFMD>
  </xf:Petition>
</xf:QueryResult>""".encode()


def test_petition_fields_nested_and_cdata_as_text() -> None:
    result = parse_query_result(BODY)
    assert isinstance(result, list)
    assert len(result) == 1
    fields = result[0].fields
    assert fields["XFJBH"] == "44030020250523000123"
    assert fields["BBH"] == "2"
    assert fields["XFR"] == {"XM": "陈望", "ZJHM": "", "LXDH": "13812345678"}
    assert fields["XFMD"] == "老板<欠薪> & 跑路"
    assert "XFJBH" in result[0].text


def test_too_many_and_other_errors() -> None:
    too_many = (
        b'<xf:Error xmlns:xf="http://xf.gd.gov.cn/schema/petition/1.0" code="TOO_MANY"'
        b' limit="500"/>'
    )
    assert parse_query_result(too_many) == TooMany(500)
    other = b'<xf:Error xmlns:xf="http://xf.gd.gov.cn/schema/petition/1.0" code="BUSY"/>'
    assert parse_query_result(other) == UpstreamError("BUSY")


@pytest.mark.parametrize(
    "body",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<l>&b;</l>",
        # external entity
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        # a bare DTD
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>',
    ],
)
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_query_result(body)


def test_truncated_document_is_a_syntax_error() -> None:
    with pytest.raises(XmlSyntaxError):
        parse_query_result(BODY[: len(BODY) // 2])
