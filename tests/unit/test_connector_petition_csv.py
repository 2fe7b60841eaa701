"""The petition window's GBK CSV: quoted line breaks, and row-level failures kept apart."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.channels.petition_csv import HEADER, CsvHeaderError, parse_export, split_records


def export(*rows: list[str], raw_rows: tuple[bytes, ...] = ()) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("gbk") + b"".join(raw_rows)


def row(
    number: str = "DJ-1", content: str = "拖欠三个月工资", when: str = "2025/05/23 14:05"
) -> list[str]:
    return [
        number,
        when,
        "陈望",
        "13812345678",
        "44030519900101123X",
        "深圳市某某建筑工程有限公司",
        "南山区前海",
        "南山区",
        "拖欠工资",
        content,
        "3",
        "李接待",
    ]


def test_quoted_commas_quotes_and_line_breaks_stay_in_one_cell() -> None:
    content = '老板说,"下个月"再发\r\n第二行\n第三行'
    rows = parse_export(export(row(content=content), row("DJ-2")))
    assert [r.external_id for r in rows] == ["DJ-1", "DJ-2"]
    assert rows[0].cells is not None
    assert rows[0].cells["诉求内容"] == content
    assert rows[0].registered_at is not None
    assert rows[0].registered_at.hour == 14


def test_bad_gbk_bytes_spoil_only_their_row() -> None:
    bad = b"DJ-9,2025/05/23 14:05,\xff\xfe,,,,,,,,1,x\r\n"
    rows = parse_export(export(row("DJ-1"), raw_rows=(bad,)))
    assert rows[0].cells is not None
    assert rows[1].cells is None
    assert rows[1].error_kind == "csv_bad_encoding"
    assert rows[1].external_id == "DJ-9"
    assert rows[1].raw == bad[:-2]


def test_wrong_cell_count_and_impossible_date_are_row_errors() -> None:
    short = row("DJ-2")[:5]
    rows = parse_export(
        export(row("DJ-1"), short, row("DJ-3", when="2025/02/30 10:00"), row("DJ-4"))
    )
    kinds = [(r.external_id, r.error_kind) for r in rows]
    assert kinds == [
        ("DJ-1", None),
        ("DJ-2", "csv_wrong_cell_count"),
        ("DJ-3", "csv_impossible_date"),
        ("DJ-4", None),
    ]
    assert rows[1].error is not None
    assert "5 cells" in rows[1].error
    assert rows[2].error is not None
    assert "登记时间" in rows[2].error
    # Reasons never carry the row's personal data.
    assert all("13812345678" not in (r.error or "") for r in rows)


def test_wrong_header_is_refused() -> None:
    with pytest.raises(CsvHeaderError):
        parse_export("a,b,c\r\n1,2,3\r\n".encode("gbk"))


def test_fingerprint_follows_cell_values_only() -> None:
    first = parse_export(export(row("DJ-1")))[0]
    same = parse_export(export(row("DJ-1")))[0]
    changed = parse_export(export(row("DJ-1", content="已部分支付")))[0]
    assert first.fingerprint == same.fingerprint != changed.fingerprint


def test_split_records_handles_lf_only_and_no_trailing_newline() -> None:
    assert split_records(b'a,"x\ny"\nb,c') == [b'a,"x\ny"', b"b,c"]


gbk_text = st.text(
    alphabet=st.sampled_from(list('拖欠工资南山区陈望abc123 ,"\r\n-')), min_size=0, max_size=30
)


@settings(max_examples=150, deadline=None)
@given(st.lists(gbk_text, min_size=1, max_size=5))
def test_any_cell_content_round_trips(contents: list[str]) -> None:
    rows = [row(f"DJ-{i}", content=c) for i, c in enumerate(contents)]
    parsed = parse_export(export(*rows))
    assert [p.cells["诉求内容"] if p.cells else None for p in parsed] == contents
