"""The dispatch store's derived indexes: their tokens, the rows a new key adds, the overlay.

The index tables (``person_employer``, ``employer_time``, ``history``,
``alert_employer``) are derived from report and alert values once, when the
key first appears: the fields they use never change. One derivation
(:class:`IndexRows`) feeds both the sqlite file, for committed keys
(:mod:`router.dispatch.state.database`), and :class:`OverlayIndex`, for keys
not committed yet, so the two can never disagree; it is kept apart from both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from router.dispatch.state.codec import employer_match_key
from router.dispatch.state.keys import ALERT_PREFIX, LOOP_PREFIX, REPORT_PREFIX

_SEP = "\x1f"


def employer_tokens_of(uscc: str | None, name: str | None) -> list[str]:
    """Index tokens of an employer: two reports of one employer share at least one."""
    tokens = []
    if uscc:
        tokens.append("u:" + uscc)
    if name:
        tokens.append("n:" + name)
    return tokens


def person_employer_token(person: str, employer: str) -> str:
    """Index token of one person token with one employer token."""
    return person + _SEP + employer


def is_indexed(key: str) -> bool:
    """Whether index rows are derived from ``key``'s value (reports and alerts)."""
    return key.startswith((REPORT_PREFIX, ALERT_PREFIX))


@dataclass
class IndexRows:
    """Index rows derived from new keys' values, as the index tables hold them."""

    person_employer: list[tuple[str, str]] = field(default_factory=list)
    employer_time: list[tuple[str, int, int, str, int]] = field(default_factory=list)
    history: list[tuple[str, int, int, str, str, int]] = field(default_factory=list)
    alert_employer: list[tuple[str, int, str]] = field(default_factory=list)
    next_seq: int = 0

    def add(self, key: str, raw: dict[str, Any]) -> None:
        """Add the index rows of a report or alert value."""
        if key.startswith(REPORT_PREFIX):
            self._add_report(key, raw)
        elif key.startswith(ALERT_PREFIX) and raw.get("employer_key") is not None:
            self.alert_employer.append(
                (raw["employer_key"], raw["raised_report_at"], key[len(ALERT_PREFIX) :])
            )

    def _add_report(self, key: str, raw: dict[str, Any]) -> None:
        seq: int = raw["seq"]
        first = raw["first"]
        self.next_seq = max(self.next_seq, seq + 1)
        match = first["employer_match"]
        if match is None:
            return
        persons: list[str] = first["persons"]
        at: int = first["at"]
        anonymous = 0 if persons else 1
        for employer in employer_tokens_of(match[0], match[1]):
            for person in persons:
                self.person_employer.append((person_employer_token(person, employer), key))
            self.employer_time.append((employer, at, seq, key, anonymous))
        self.history.append(
            (
                employer_match_key(match[0], match[1]),
                at,
                seq,
                key,
                orjson.dumps(persons).decode(),
                first["people"],
            )
        )


@dataclass
class OverlayIndex:
    """Index rows of uncommitted new keys, by what the queries look up."""

    person_employer: dict[str, list[str]] = field(default_factory=dict)
    employer_time: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)
    history: dict[str, list[tuple[int, int, str, str, int]]] = field(default_factory=dict)
    alert_employer: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    next_seq: int = 0

    def add(self, rows: IndexRows) -> None:
        """Index the rows derived from one new key."""
        for token, key in rows.person_employer:
            self.person_employer.setdefault(token, []).append(key)
        for employer, at, seq, key, anonymous in rows.employer_time:
            self.employer_time.setdefault(employer, []).append((at, seq, key, anonymous))
        for ekey, at, seq, key, persons, people in rows.history:
            self.history.setdefault(ekey, []).append((at, seq, key, persons, people))
        for ekey, raised, alert_id in rows.alert_employer:
            self.alert_employer.setdefault(ekey, []).append((raised, alert_id))
        self.next_seq = max(self.next_seq, rows.next_seq)


def look_of(key: str, value: bytes | None) -> int | None:
    """When a case loop value (``l/``) next needs a look, in µs; None for any other key,
    a deletion, or a case that needs none. Unlike the index rows above it changes with
    every write of the key: the ``timers`` table follows it on each one."""
    if value is None or not key.startswith(LOOP_PREFIX):
        return None
    look = orjson.loads(value).get("look")
    return int(look) if look is not None else None
