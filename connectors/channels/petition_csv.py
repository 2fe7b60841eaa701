"""The petition window's GBK CSV exports, parsed row by row so one bad row spoils nothing else.

Records are split on the raw bytes (RFC 4180: CRLF outside double quotes).
That is safe for GBK, whose two-byte characters never use the bytes of ``"``,
``,``, CR or LF. Each record is then decoded and parsed on its own, so bytes
that are not GBK, a wrong cell count or an impossible date make that row, and
only that row, a dead letter.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import orjson

from connectors.channels.common import parse_local
from schemas.vocabulary import PETITION_CSV_HEADER

HEADER = PETITION_CSV_HEADER
TIME_FORMAT = "%Y/%m/%d %H:%M"
MAX_COUNT_DIGITS = 9  # a longer 来访人数 is no head-count


@dataclass(frozen=True)
class CsvRow:
    """One data record of an export: its cells when valid, else why it is malformed."""

    number: int  # 1-based among data records
    raw: bytes
    text: str | None
    cells: dict[str, str] | None
    registered_at: datetime | None
    error_kind: str | None = None
    error: str | None = None
    external_id: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identity of the row's content: equal cells give equal fingerprints."""
        payload = orjson.dumps(self.cells) if self.cells is not None else self.raw
        return hashlib.sha256(payload).hexdigest()[:24]


class CsvHeaderError(ValueError):
    """The export's header row is not the one the contract names."""


def split_records(data: bytes) -> list[bytes]:
    """Byte records of ``data``: split on CRLF (or LF) outside double quotes; no empty tail.

    Scans with ``bytes.find`` from quote to quote and line to line, so a
    10 MB field costs milliseconds, not a Python step per byte.
    """
    records: list[bytes] = []
    start = pos = 0
    length = len(data)
    while True:
        lf = data.find(b"\n", pos)
        quote = data.find(b'"', pos, lf if lf >= 0 else length)
        if quote >= 0:  # a quoted part: skip to its closing quote, LFs in it included
            closing = data.find(b'"', quote + 1)
            if closing < 0:
                break
            pos = closing + 1
            continue
        if lf < 0:
            break
        end = lf - 1 if lf > start and data[lf - 1] == 0x0D else lf
        records.append(data[start:end])
        start = pos = lf + 1
    if start < length:
        records.append(data[start:])
    return records


def _cells(text: str) -> list[str] | None:
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    return rows[0] if len(rows) == 1 else None


def parse_export(data: bytes) -> list[CsvRow]:
    """Every data row of an export; raises :class:`CsvHeaderError` for a wrong header."""
    records = split_records(data)
    if data.startswith(b"\xef\xbb\xbf"):
        records[0] = records[0][3:]
    if not records:
        raise CsvHeaderError("export is empty (no header row)")
    try:
        header = _cells(records[0].decode("gbk"))
    except (UnicodeDecodeError, csv.Error):
        header = None
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise CsvHeaderError("header row differs from the contract")
    return [_parse_row(n, raw) for n, raw in enumerate(records[1:], start=1) if raw.strip()]


def _parse_row(number: int, raw: bytes) -> CsvRow:
    def bad(kind: str, reason: str, text: str | None = None, ext: str | None = None) -> CsvRow:
        return CsvRow(number, raw, text, None, None, kind, reason, ext)

    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError as exc:
        first_cell = raw.split(b",", 1)[0].strip(b'"')
        readable = first_cell.decode("ascii", errors="ignore") or None
        return bad(
            "csv_bad_encoding", f"row {number}: bytes at {exc.start} are not GBK", None, readable
        )
    try:
        values = _cells(text)
    except csv.Error as exc:  # csv's messages name the problem, never the data
        return bad("csv_not_one_record", f"row {number}: not one CSV record ({exc})", text)
    if values is None:
        return bad("csv_not_one_record", f"row {number}: not one CSV record", text)
    external_id = (values[0].strip() or None) if values else None
    if len(values) != len(HEADER):
        return bad(
            "csv_wrong_cell_count",
            f"row {number}: {len(values)} cells, expected {len(HEADER)}",
            text,
            external_id,
        )
    cells = dict(zip(HEADER, values, strict=True))
    if external_id is None:
        return bad("csv_missing_id", f"row {number}: 登记编号 is empty", text)
    registered_at = parse_local(cells["登记时间"].strip(), TIME_FORMAT)
    if registered_at is None:
        return bad(
            "csv_impossible_date", f"row {number}: 登记时间 is not a valid time", text, external_id
        )
    visitors = cells["来访人数"].strip()
    # isdecimal, not isdigit: int() refuses digits such as ① and numbers over 4300 digits.
    if not visitors.isdecimal() or len(visitors) > MAX_COUNT_DIGITS or int(visitors) < 1:
        return bad(
            "csv_invalid_head_count",
            f"row {number}: 来访人数 is not a positive integer",
            text,
            external_id,
        )
    return CsvRow(number, raw, text, cells, registered_at, external_id=external_id)
