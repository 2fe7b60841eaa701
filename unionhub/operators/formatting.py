"""One readable line per record: dispatch events, alerts, dead letters, raw records, the rest.

The line format is chosen by the value's ``schema`` field, so a dispatch event
reads the same from any topic. Lines are cut to the terminal's width counting
CJK characters as two columns, control characters never reach the terminal,
and every text passes through :func:`core.pii.mask_numbers` (events are
masked already; raw and dead-letter topics are not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.pii import mask_numbers

DISPATCH_SCHEMA = "unionhub.dispatch/1"
ALERT_SCHEMA = "unionhub.alert/1"
DEADLETTER_SCHEMA = "unionhub.deadletter/1"
RAW_SCHEMA = "unionhub.raw/1"

_RESET = "\x1b[0m"
_STYLES = {
    "time": "\x1b[2m",
    "new_case": "\x1b[32m",
    "duplicate_report": "\x1b[36m",
    "case_updated": "\x1b[33m",
    "case_merged": "\x1b[35m",
    "alert": "\x1b[1;31m",
    "dead": "\x1b[31m",
    "raw": "\x1b[34m",
    "triage": "\x1b[33m",
    "district": "\x1b[1m",
    "dim": "\x1b[2m",
}
_SPACES = re.compile(r"\s+")
_TRIAGE_LABELS = {"outside_jurisdiction": "outside", "unplaced": "unplaced"}


@dataclass(frozen=True)
class Segment:
    """A piece of a line: its text, the display width it is padded to, its style."""

    text: str
    pad_to: int = 0
    style: str | None = None
    max_width: int | None = None  # when lines are cut: cut this one (with …) at this width


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clean(value: object) -> str:
    """``value`` as one line of masked text, with no control characters."""
    text = "" if value is None else str(value)
    text = _SPACES.sub(" ", text).strip()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return mask_numbers(text)


def render(segments: list[Segment], width: int | None, color: bool) -> str:
    """Join segments with single spaces, cut at ``width`` columns (with …), colour if asked."""
    parts: list[tuple[str, str | None]] = []
    used = 0
    for index, segment in enumerate(segments):
        text = segment.text
        if segment.max_width is not None and width is not None:
            text = _cut(text, segment.max_width)
        pad = max(segment.pad_to - display_width(text), 0)
        if index < len(segments) - 1:
            text += " " * pad
        piece = (" " if index else "") + text
        piece_width = display_width(piece)
        if width is not None and used + piece_width > width:
            parts.append((_cut(piece, width - used), segment.style))
            break
        parts.append((piece, segment.style))
        used += piece_width
    if not color:
        return "".join(text for text, _ in parts).rstrip()
    out = []
    for text, style in parts:
        lead = text[: len(text) - len(text.lstrip(" "))]
        body = text[len(lead) :]
        code = _STYLES.get(style or "")
        out.append(lead + (f"{code}{body}{_RESET}" if code and body else body))
    return "".join(out).rstrip()


def _cut(text: str, columns: int) -> str:
    if columns <= 0:
        return ""
    if display_width(text) <= columns:
        return text
    kept: list[str] = []
    used = 0
    for ch in text:
        w = display_width(ch)
        if used + w > columns - 1:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + "…"


def format_time(value: object, fallback_ms: int | None = None) -> str:
    """An ISO-8601 time (or a Kafka timestamp in ms) as ``YYYY-MM-DD HH:MM:SSZ`` in UTC."""
    parsed: datetime | None = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    if parsed is None and fallback_ms is not None:
        parsed = datetime.fromtimestamp(fallback_ms / 1000, tz=UTC)
    if parsed is None:
        return "-" * 20
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _name(value: object) -> str:
    if isinstance(value, Mapping):
        return clean(value.get("name")) or "-"
    return "-"


def dispatch_segments(event: Mapping[str, Any], timestamp_ms: int | None) -> list[Segment]:
    """Time, event type, category, district, masked complainant, employer, summary."""
    event_type = clean(event.get("event_type")) or "?"
    district = event.get("district")
    if district:
        place = Segment(clean(district), 15, "district")
    else:
        reason = clean(event.get("triage_reason")) or "?"
        place = Segment(f"triage:{_TRIAGE_LABELS.get(reason, reason)}", 15, "triage")
    complainant = event.get("complainant")
    if isinstance(complainant, Mapping):
        who = " ".join(
            clean(complainant.get(k)) for k in ("name_masked", "phone_masked") if complainant.get(k)
        )
    else:
        who = ""
    return [
        Segment(format_time(event.get("dispatched_at"), timestamp_ms), 0, "time"),
        Segment(event_type, 16, event_type),
        Segment(clean(event.get("category")) or "?", 19),
        place,
        Segment(who or "-", 16),
        Segment(_name(event.get("employer")), 20, max_width=20),
        Segment(clean(event.get("summary"))),
    ]


def alert_segments(alert: Mapping[str, Any], timestamp_ms: int | None) -> list[Segment]:
    """Time, ALERT, kind, district, employer, persons, cases and the window."""
    case_ids = alert.get("case_ids")
    cases = len(case_ids) if isinstance(case_ids, list) else 0
    window = f"{format_time(alert.get('window_start'))} .. {format_time(alert.get('window_end'))}"
    return [
        Segment(format_time(alert.get("raised_at"), timestamp_ms), 0, "time"),
        Segment("ALERT", 0, "alert"),
        Segment(clean(alert.get("kind")) or "?", 13, "alert"),
        Segment(clean(alert.get("district")) or "-", 12, "district"),
        Segment(_name(alert.get("employer")), 20, max_width=20),
        Segment(f"persons={clean(alert.get('persons')) or '?'} cases={cases}"),
        Segment(f"window {window}", 0, "dim"),
    ]


def deadletter_segments(letter: Mapping[str, Any], timestamp_ms: int | None) -> list[Segment]:
    """Time, DEAD, stage/channel, connector, external id, error kind and message."""
    error = letter.get("error")
    kind = clean(error.get("kind")) if isinstance(error, Mapping) else "?"
    message = clean(error.get("message")) if isinstance(error, Mapping) else ""
    return [
        Segment(format_time(letter.get("at"), timestamp_ms), 0, "time"),
        Segment("DEAD", 0, "dead"),
        Segment(f"{clean(letter.get('stage'))}/{clean(letter.get('channel'))}", 24),
        Segment(clean(letter.get("connector")) or "-", 16),
        Segment(f"id={clean(letter.get('external_id')) or '-'}", 16),
        Segment(f"{kind}: {message}", 0, "dead"),
    ]


def raw_segments(envelope: Mapping[str, Any], timestamp_ms: int | None) -> list[Segment]:
    """Time, RAW, channel, connector, external id, version and source; never the record.

    Raw records hold names, phones and ID numbers in clear: the human line
    says which record it is, ``--json`` (for those allowed to read the topic)
    shows its content.
    """
    return [
        Segment(format_time(envelope.get("fetched_at"), timestamp_ms), 0, "time"),
        Segment("RAW", 0, "raw"),
        Segment(clean(envelope.get("channel")) or "?", 19),
        Segment(clean(envelope.get("connector")) or "-", 16),
        Segment(f"id={clean(envelope.get('external_id')) or '-'}", 16),
        Segment(f"v={clean(envelope.get('version')) or '-'}", 12),
        Segment(clean(envelope.get("source")), 0, "dim"),
    ]


def generic_segments(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, ts: int
) -> list[Segment]:
    """Any other record: time, where it is, its key and its value as text."""
    text = "<tombstone>" if value is None else value.decode("utf-8", errors="replace")
    return [
        Segment(format_time(None, ts), 0, "time"),
        Segment(f"{topic}[{partition}]@{offset}", 0, "dim"),
        Segment(f"key={clean((key or b'').decode('utf-8', errors='replace')) or '-'}"),
        Segment(clean(text)),
    ]
