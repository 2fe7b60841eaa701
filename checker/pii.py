"""Clear personal numbers in published values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.pii import contains_numbers

# Identifiers and times: hashes and digits that may look like numbers but are not personal.
_NOT_TEXT = frozenset(
    {
        "event_id",
        "case_id",
        "merged_case_ids",
        "alert_id",
        "case_ids",
        "person_key",
        "uscc",
        "employer_key",
        "external_id",
        "version",
        "window_start",
        "window_end",
        "open_until",
    }
)


def leaks(value: dict[str, Any], terms: Iterable[str] = ()) -> bool:
    """Whether ``value`` holds a clear ID or phone number in a text field, or any of ``terms``.

    Text fields are every string except identifiers and times (see ``_NOT_TEXT``);
    ``terms`` (e.g. a scenario's own ID and phone numbers) are looked for everywhere.
    """
    if any(contains_numbers(text) for text in _texts(value, skip_identifiers=True)):
        return True
    everything = list(_texts(value, skip_identifiers=False))
    return any(term in text for term in terms for text in everything)


def _texts(value: Any, *, skip_identifiers: bool) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if skip_identifiers and (key in _NOT_TEXT or str(key).endswith("_at")):
                continue
            yield from _texts(item, skip_identifiers=skip_identifiers)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, skip_identifiers=skip_identifiers)
