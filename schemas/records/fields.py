"""The field types of the channel records: upstream times, identifiers, head-counts, text.

Every channel model builds on these, so a rule (CST when a time has no
offset, an invalid ID number kept as unknown, the text length cap) holds on
all five channels alike. Kept apart from the models so that rule is in one place.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

from schemas.identifiers import normalize_id_number, normalize_phone, normalize_uscc

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# More than this many people in one complaint is a typing error (or a phone number).
MAX_PEOPLE = 100_000
# Longer free text is hostile or broken input: similarity shingles and the dispatch
# event grow with it (a 10 MB complaint took 0.6 GB and 30 s to normalise).
MAX_TEXT_CHARS = 50_000

_SLASH_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?")


def to_utc(value: Any) -> datetime:
    """An upstream time as a UTC-aware datetime; a time without offset is CST (UTC+08:00).

    Accepts ISO-8601 (``T`` or space separated, with or without offset) and the
    petition window's ``YYYY/MM/DD HH:MM``. Raises ``ValueError`` otherwise
    (also for a wrong type: pydantic turns only ``ValueError`` into a validation error).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        slash = _SLASH_TIME.fullmatch(text)
        if slash:
            y, mo, d, h, mi, s = slash.groups()
            parsed = datetime(  # noqa: DTZ001 - local time, offset attached below
                int(y), int(mo), int(d), int(h), int(mi), int(s or 0)
            )
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        raise ValueError("expected a time string")  # noqa: TRY004 - pydantic needs ValueError
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's ends
        raise ValueError("time out of range") from None


def _people_count(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool):
        raise ValueError("people count must be a positive integer")  # noqa: TRY004
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError("people count must be a positive integer")
    try:
        count = int(value)
    except (TypeError, OverflowError):  # a list, an object, an infinity: pydantic wants ValueError
        raise ValueError("people count must be a positive integer") from None
    if count != value and not isinstance(value, str):
        raise ValueError("people count must be a positive integer")
    if not 1 <= count <= MAX_PEOPLE:
        raise ValueError(f"people count must be an integer from 1 to {MAX_PEOPLE}")
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("expected text")  # noqa: TRY004 - pydantic reports ValueError only
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"text longer than {MAX_TEXT_CHARS} characters")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    text = _text(value)
    return text or None


UtcTime = Annotated[AwareDatetime, BeforeValidator(to_utc)]
"""An upstream time, converted to UTC (CST assumed when it has no offset)."""
IdNumber = Annotated[str | None, BeforeValidator(lambda v: normalize_id_number(_text(v)))]
"""A valid 18-character resident ID number, or None (absent or invalid)."""
Uscc = Annotated[str | None, BeforeValidator(lambda v: normalize_uscc(_text(v)))]
"""A valid unified social credit code, or None (absent or invalid)."""
Phone = Annotated[str | None, BeforeValidator(lambda v: normalize_phone(_text(v)))]
"""A normalised phone number (digits, no +86), or None (absent or invalid)."""
PeopleCount = Annotated[int, BeforeValidator(_people_count)]
"""A positive head-count (at most MAX_PEOPLE); missing means 1."""
Text = Annotated[str, BeforeValidator(_text)]
"""Text, stripped; missing means empty."""
OptText = Annotated[str | None, BeforeValidator(_optional_text)]
"""Text, stripped; missing or empty means None."""
