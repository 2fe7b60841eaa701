"""What a scenario's ground truth says, read from ``expected.json`` as plain data.

The checker never sees the simulators' or the router's objects: it reads the
JSON document ``unionhub simulate`` writes (``simulators/export.py``), so it
can judge any run, including one of another implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from checker.errors import ExpectationsError

Ref = tuple[str, str]  # (channel, external_id)
VersionKey = tuple[str, str, str]  # (channel, external_id, version label)

TRIAGE_PREFIX = "triage:"  # placements of cases no district takes: ``triage:<reason>``
TRIAGE = "triage"  # the dispatch queue of those cases


@dataclass(frozen=True)
class ExpectedCase:
    """One case of the truth: its reports and the placements it may be dispatched to.

    A placement is a district slug or ``triage:<reason>``.
    """

    case_id: str
    reports: frozenset[Ref]
    placements: frozenset[str]


@dataclass(frozen=True)
class ExpectedVersion:
    """One record version: its case and the event types acceptable for it.

    ``events`` holds when connectors landed the settled view, ``events_live``
    when they landed what a live run let them see.
    """

    key: VersionKey
    case_id: str
    events: frozenset[str]
    events_live: frozenset[str]


@dataclass(frozen=True)
class ExpectedAlert:
    """One alert of the truth: kind, employer key, raising and member reports."""

    kind: str
    employer_key: str | None
    trigger: frozenset[Ref]
    members: frozenset[Ref]
    persons: int


@dataclass(frozen=True)
class ExpectedDeadLetter:
    """A malformed upstream record that must end as a dead letter."""

    channel: str
    external_id: str | None
    kind: str
    source: str


@dataclass(frozen=True)
class Expectations:
    """Everything the checker compares a run with."""

    settled: frozenset[VersionKey]
    possible: frozenset[VersionKey]
    versions: dict[VersionKey, ExpectedVersion]
    cases: dict[str, ExpectedCase]
    alerts: tuple[ExpectedAlert, ...]
    dead_letters: tuple[ExpectedDeadLetter, ...]
    _case_index: dict[Ref, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {ref: c.case_id for c in self.cases.values() for ref in c.reports}
        object.__setattr__(self, "_case_index", index)

    def case_of(self, ref: Ref) -> ExpectedCase | None:
        """The truth's case of a report, or ``None`` for a report the truth does not know."""
        case_id = self._case_index.get(ref)
        return self.cases[case_id] if case_id is not None else None

    @classmethod
    def load(cls, path: Path) -> Expectations:
        """Read ``expected.json``; raises :class:`ExpectationsError` naming what is wrong."""
        try:
            doc = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise ExpectationsError(f"cannot read {path}: {exc.strerror}") from exc
        except orjson.JSONDecodeError as exc:
            raise ExpectationsError(f"{path} is not JSON: {exc}") from exc
        return cls.from_document(doc)

    @classmethod
    def from_document(cls, doc: Any) -> Expectations:
        """Build from the parsed ``expected.json`` document."""
        if not isinstance(doc, dict):
            raise ExpectationsError("expected.json must hold a JSON object")
        try:
            return cls(
                settled=frozenset(_version_key(v) for v in doc["expected_versions"]),
                possible=frozenset(_version_key(v) for v in doc["possible_versions"]),
                versions={
                    _version_key(v): ExpectedVersion(
                        _version_key(v),
                        str(v["case_id"]),
                        frozenset(v["events"]),
                        frozenset(v["events_live"]),
                    )
                    for v in doc["versions"]
                },
                cases={
                    str(c["case_id"]): ExpectedCase(
                        str(c["case_id"]),
                        frozenset(_ref(r) for r in c["reports"]),
                        frozenset(c["placements"]),
                    )
                    for c in doc["cases"]
                },
                alerts=tuple(
                    ExpectedAlert(
                        str(a["kind"]),
                        a["employer_key"],
                        frozenset(_ref(r) for r in a["trigger"]),
                        frozenset(_ref(r) for r in a["members"]),
                        int(a["persons"]),
                    )
                    for a in doc["alerts"]
                ),
                dead_letters=tuple(
                    ExpectedDeadLetter(
                        str(d["channel"]), d["external_id"], str(d["kind"]), str(d["source"])
                    )
                    for d in doc["dead_letters"]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ExpectationsError(f"expected.json lacks or mistypes a field: {exc!r}") from exc


def _version_key(v: dict[str, Any]) -> VersionKey:
    return (str(v["channel"]), str(v["external_id"]), str(v["version"]))


def _ref(r: list[str] | tuple[str, str]) -> Ref:
    channel, external_id = r
    return (str(channel), str(external_id))
