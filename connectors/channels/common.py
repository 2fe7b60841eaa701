"""Small helpers the channel modules share: times, JSON bodies, query strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import orjson

from connectors.errors import MalformedResponseError

CST = timezone(timedelta(hours=8), "CST")
# Upstream times outside these years are absurd (typing errors, hostile input); refusing
# them also keeps date arithmetic (re-read horizons, UTC conversion) from overflowing.
MIN_YEAR, MAX_YEAR = 1900, 2999


@dataclass(frozen=True)
class Invalid:
    """Why a record is malformed: a machine-readable ``kind`` and a PII-free ``reason``."""

    kind: str
    reason: str


def query(params: dict[str, str | int]) -> str:
    """RFC 3986 query string: every value percent-encoded (``+`` and space included)."""
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in params.items())


def json_body(body: bytes, what: str) -> Any:
    """The parsed JSON body; a garbled one is a :class:`MalformedResponseError` (retried)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedResponseError(f"{what}: response is not valid JSON") from None


def error_code(body: bytes) -> str | None:
    """The ``error`` member of a JSON error body, if there is one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = data.get("error") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def parse_aware(value: object) -> datetime | None:
    """An ISO-8601 time with offset as an aware datetime; local CST when it has none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return _plausible(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CST))


def parse_local(value: object, fmt: str) -> datetime | None:
    """A local (China Standard Time) time string in ``fmt`` as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        return _plausible(datetime.strptime(value, fmt).replace(tzinfo=CST))
    except ValueError:
        return None


def _plausible(value: datetime) -> datetime | None:
    """``value`` when its year is within MIN_YEAR..MAX_YEAR, else None."""
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def now_local() -> datetime:
    """The current time in China Standard Time."""
    return datetime.now(UTC).astimezone(CST)


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` (for dead-letter ``raw``)."""
    return orjson.dumps(value).decode()
