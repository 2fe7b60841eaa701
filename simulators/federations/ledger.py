"""Every action the simulated federations sent, with its id and what the API answered.

Tests and a chaos run read it: :meth:`Ledger.entries` in the process, or the
JSON-lines file (one object per attempt, appended as it happens) named by
``FederationOptions.ledger_path``. A retry of the same ``action_id`` is a new
entry with the same id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson


class Outcome(StrEnum):
    """What became of one attempt."""

    APPLIED = "applied"  # 200: the case's history holds the action
    PENDING = "pending"  # 202: sent, not settled within the API's wait; re-sent with its id
    REFUSED = "refused"  # 409 (or 403/404: the case moved away): see ``expected``
    INVALID = "invalid"  # 400: the simulator built a bad action (a bug)
    RETRY = "retry"  # no answer, 401, 5xx: re-sent with the same id


@dataclass(frozen=True)
class LedgerEntry:
    """One attempt of one action."""

    actor: str
    case_id: str
    action_id: str
    action: str
    at: str  # the loop time sent as the action's ``at`` (ISO-8601)
    status: int  # HTTP status, 0 when no answer came
    outcome: Outcome
    expected: bool  # a refusal the federation expected: the case had moved on
    reason: str | None = None  # the API's refusal reason, or the failure
    case_status: str | None = None  # the case's status as the API showed it after the attempt

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of the entry."""
        return {**asdict(self), "outcome": self.outcome.value}


class Ledger:
    """The attempts of every federation of one run, in the order they were answered."""

    def __init__(
        self, path: Path | None = None, echo: Callable[[LedgerEntry], None] | None = None
    ) -> None:
        self._entries: list[LedgerEntry] = []
        self._path = path
        self._echo = echo
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, entry: LedgerEntry) -> None:
        """Keep ``entry`` (and append it to the file, and echo it, if so configured)."""
        self._entries.append(entry)
        if self._path is not None:
            with self._path.open("ab") as out:
                out.write(orjson.dumps(entry.to_json()) + b"\n")
        if self._echo is not None:
            self._echo(entry)

    def entries(self) -> list[LedgerEntry]:
        """Every attempt so far."""
        return list(self._entries)

    def applied_ids(self) -> set[str]:
        """The ids of the actions the API confirmed applied."""
        return {e.action_id for e in self._entries if e.outcome is Outcome.APPLIED}

    def refusals(self) -> list[LedgerEntry]:
        """Attempts refused or invalid (a correct run has only expected refusals)."""
        return [e for e in self._entries if e.outcome in (Outcome.REFUSED, Outcome.INVALID)]


def read_ledger(path: Path) -> list[LedgerEntry]:
    """The entries of a ledger file (as a chaos run or a test reads it after the fact)."""
    entries = []
    for line in path.read_bytes().splitlines():
        raw = orjson.loads(line)
        entries.append(LedgerEntry(**{**raw, "outcome": Outcome(raw["outcome"])}))
    return entries
