"""Hostile petition_window exports (GBK CSV): each bad row is its own dead letter; no raise."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.channels.petition_csv import HEADER, CsvHeaderError, parse_export, split_records
from tests.hostile.fuzz import FUZZ
from tests.hostile.pii import ID_NUMBER, PHONE, leaks

ROW_KINDS = {
    "csv_bad_encoding",
    "csv_not_one_record",
    "csv_wrong_cell_count",
    "csv_missing_id",
    "csv_impossible_date",
    "csv_invalid_head_count",
}
HEADER_LINE = ",".join(HEADER).encode("gbk")


def cells(**changes: str) -> list[str]:
    """A valid row (with planted personal numbers) with some cells changed, by header name."""
    row = dict(
        zip(
            HEADER,
            [
                "XF1",
                "2025/05/23 14:05",
                "陈望",
                PHONE,
                ID_NUMBER,
                "某厂",
                "南山区某路",
                "南山区",
                "拖欠工资",
                "拖欠三个月工资",
                "1",
                "李",
            ],
            strict=True,
        )
    )
    row.update(changes)
    return list(row.values())


def export(*rows: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("gbk")


def one_row(data: bytes) -> tuple[str | None, str | None]:
    rows = parse_export(data)
    assert len(rows) == 1
    return rows[0].error_kind, rows[0].error


BAD_ROWS: list[tuple[str, bytes, str, str]] = [
    # (class, export bytes, expected error kind, a word the reason must hold)
    ("truncated row", HEADER_LINE + b"\r\nXF1,2025/05/23 14:05,x", "csv_wrong_cell_count", "cells"),
    ("extra cells", export([*cells(), "extra"]), "csv_wrong_cell_count", "cells"),
    ("unterminated quote", HEADER_LINE + b'\r\nXF1,"2025/05/23', "csv_not_one_record", "CSV"),
    ("not GBK", HEADER_LINE + b"\r\nXF1,\x80\xff\xfe," + b"x," * 10, "csv_bad_encoding", "GBK"),
    ("UTF-8 row", HEADER_LINE + b"\r\n" + ",".join(cells()).encode(), "csv_bad_encoding", "GBK"),
    ("empty id", export(cells(登记编号="")), "csv_missing_id", "登记编号"),
    (
        "impossible date",
        export(cells(登记时间="2025/02/30 10:00")),
        "csv_impossible_date",
        "登记时间",
    ),
    (
        "absurd year 1",
        export(cells(登记时间="0001/01/01 00:00")),
        "csv_impossible_date",
        "登记时间",
    ),
    (
        "absurd year 9999",
        export(cells(登记时间="9999/12/31 23:59")),
        "csv_impossible_date",
        "登记时间",
    ),
    ("date is text", export(cells(登记时间="yesterday")), "csv_impossible_date", "登记时间"),
    ("zero visitors", export(cells(来访人数="0")), "csv_invalid_head_count", "来访人数"),
    ("negative visitors", export(cells(来访人数="-3")), "csv_invalid_head_count", "来访人数"),
    ("circled digit ①", export(cells(来访人数="①")), "csv_invalid_head_count", "来访人数"),
    ("5000-digit count", export(cells(来访人数="9" * 5000)), "csv_invalid_head_count", "来访人数"),
    ("10 MB cell", export(cells(诉求内容="欠" * 5_000_000)), "csv_not_one_record", "field limit"),
]


@pytest.mark.parametrize(
    ("data", "kind", "word"), [r[1:] for r in BAD_ROWS], ids=[r[0] for r in BAD_ROWS]
)
def test_a_hostile_row_is_a_dead_letter_with_its_reason(data: bytes, kind: str, word: str) -> None:
    error_kind, error = one_row(data)
    assert error_kind == kind
    assert error is not None
    assert word in error
    assert not leaks(error)


BAD_HEADERS = [
    ("empty", b""),
    ("only a BOM", b"\xef\xbb\xbf"),
    ("header in UTF-8", ",".join(HEADER).encode()),
    ("header not text", b"\xff\xfe\x00\x01" * 8),
    ("a header missing", ",".join(HEADER[:-1]).encode("gbk")),
    ("a header twice", ",".join((*HEADER, HEADER[0])).encode("gbk")),
    ("JSON, not CSV", b'{"error": "maintenance"}'),
]


@pytest.mark.parametrize("data", [h[1] for h in BAD_HEADERS], ids=[h[0] for h in BAD_HEADERS])
def test_a_wrong_header_refuses_the_whole_export(data: bytes) -> None:
    with pytest.raises(CsvHeaderError) as raised:
        parse_export(data + b"\r\n" + export(cells()).split(b"\r\n", 1)[1])
    assert not leaks(str(raised.value))


def test_utf8_that_happens_to_be_valid_gbk_is_read_as_mojibake_not_refused() -> None:
    # GBK cannot tell every UTF-8 byte sequence from its own: such rows pass as (wrong) text.
    ascii_row = cells(来访人姓名="陈望", 单位名称="A", 单位地址="B", 所属区="C", 诉求内容="D")
    ascii_row[8] = ascii_row[11] = "E"  # 诉求类别, 接待人
    (row,) = parse_export(HEADER_LINE + b"\r\n" + ",".join(ascii_row).encode())
    assert row.cells is not None
    assert row.cells["来访人姓名"] == "陈望".encode().decode("gbk")


def test_control_characters_and_nul_are_data_kept_verbatim() -> None:
    # GBK has no code for bidi overrides (U+202E...): they cannot reach this parser.
    text = "拖欠\x00工资\x07\x1b[31m\x7f\t"
    (row,) = parse_export(export(cells(诉求内容=text)))
    assert row.error_kind is None
    assert row.cells is not None
    assert row.cells["诉求内容"] == text


def test_one_bad_row_spoils_nothing_around_it() -> None:
    data = export(cells(登记编号="A"), cells(登记编号="B", 来访人数="①"), cells(登记编号="C"))
    rows = parse_export(data)
    assert [(r.external_id, r.error_kind) for r in rows] == [
        ("A", None),
        ("B", "csv_invalid_head_count"),
        ("C", None),
    ]


def test_duplicate_registration_numbers_are_both_parsed_as_rows() -> None:
    rows = parse_export(export(cells(), cells(诉求内容="另一内容")))
    assert [r.external_id for r in rows] == ["XF1", "XF1"]
    assert rows[0].fingerprint != rows[1].fingerprint  # the ledger sees a second version


def test_a_10_mb_cell_stays_within_bounded_memory() -> None:
    data = export(cells(登记编号="BIG", 诉求内容="欠" * 5_000_000), cells(登记编号="OK"))
    tracemalloc.start()
    try:
        rows = parse_export(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.error_kind for r in rows] == ["csv_not_one_record", None]
    assert peak < 8 * len(data), f"peak {peak} bytes for a {len(data)}-byte export"


def _split_reference(data: bytes) -> list[bytes]:
    """The byte-by-byte splitter split_records replaced, as the oracle of its behaviour."""
    records: list[bytes] = []
    start, quoted = 0, False
    for i, byte in enumerate(data):
        if byte == 0x22:
            quoted = not quoted
        elif byte == 0x0A and not quoted:
            end = i - 1 if i > start and data[i - 1] == 0x0D else i
            records.append(data[start:end])
            start = i + 1
    if start < len(data):
        records.append(data[start:])
    return records


@FUZZ
@given(
    st.binary(max_size=200)
    | st.lists(st.sampled_from([b'"', b"\r", b"\n", b"a", b","])).map(b"".join)
)
def test_split_records_matches_the_reference_splitter(data: bytes) -> None:
    assert split_records(data) == _split_reference(data)


def _check_rows(data: bytes) -> None:
    try:
        rows = parse_export(data)
    except CsvHeaderError as exc:
        problem = str(exc)
        rows = []
    else:
        problem = ""
    assert not leaks(problem)
    for row in rows:
        assert (row.cells is None) == (row.error_kind is not None)
        if row.error_kind is not None:
            assert row.error_kind in ROW_KINDS
            assert row.error
            assert not leaks(row.error)


@FUZZ
@given(st.binary(max_size=500))
def test_fuzz_arbitrary_bytes_only_header_errors_or_rows(data: bytes) -> None:
    _check_rows(data)


@FUZZ
@given(st.binary(max_size=500))
def test_fuzz_arbitrary_bytes_after_a_valid_header(data: bytes) -> None:
    _check_rows(HEADER_LINE + b"\r\n" + data)


@FUZZ
@given(
    st.lists(
        st.lists(st.text(max_size=30), min_size=10, max_size=14).map(
            lambda row: [c.encode("gbk", "replace").decode("gbk") for c in row]
        ),
        max_size=4,
    )
)
def test_fuzz_rows_of_arbitrary_cells(rows: list[list[str]]) -> None:
    _check_rows(export(*rows))


@FUZZ
@given(st.sampled_from(HEADER), st.text(max_size=40))
def test_fuzz_one_cell_of_a_valid_row(column: str, value: str) -> None:
    _check_rows(export(cells(**{column: value.encode("gbk", "replace").decode("gbk")})))
