"""The case store in one SQLite file (the default: embedded, nothing to run).

SQLite rather than DuckDB: the daemon writes the file while ``unionhub report``
and other readers open it from their own processes, which SQLite's WAL allows
and DuckDB's single-writer file lock does not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from core.times import to_us
from review.store.base import (
    DONE_STATUSES,
    CaseQuery,
    CaseRow,
    Change,
    Offsets,
    Refusal,
    load_state,
)
from schemas.caseloop import CaseState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY, district TEXT, status TEXT NOT NULL, urgency TEXT NOT NULL,
    category TEXT NOT NULL, dispatched_us INTEGER NOT NULL, updated_us INTEGER NOT NULL,
    next_due_us INTEGER, value BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS cases_district ON cases (district, updated_us);
CREATE INDEX IF NOT EXISTS cases_due ON cases (next_due_us);
CREATE TABLE IF NOT EXISTS refusals (
    action_id TEXT PRIMARY KEY, case_id TEXT, kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition));
"""


class SqliteCaseStore:
    """:class:`review.store.base.CaseStore` over SQLite (``path`` None: in memory)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else path, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def offsets(self) -> Offsets:
        """See :meth:`CaseStore.offsets`."""
        rows = self._db.execute("SELECT topic, partition, next_offset FROM offsets")
        return {(topic, partition): offset for topic, partition, offset in rows}

    def apply(self, changes: list[Change], offsets: Offsets) -> None:
        """See :meth:`CaseStore.apply`."""
        db = self._db
        db.execute("BEGIN")
        try:
            for change in changes:
                if change.refusal is not None:
                    r = change.refusal
                    db.execute(
                        "INSERT OR REPLACE INTO refusals VALUES (?, ?, ?, ?)",
                        (r.action_id, r.case_id, r.kind, r.message),
                    )
                elif change.state is not None and change.value is not None:
                    row = CaseRow.of(change.state, change.value)
                    db.execute(
                        "INSERT OR REPLACE INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            row.case_id,
                            row.district,
                            row.status,
                            row.urgency,
                            row.category,
                            row.dispatched_us,
                            row.updated_us,
                            row.next_due_us,
                            row.value,
                        ),
                    )
                elif change.case_id is not None:
                    db.execute("DELETE FROM cases WHERE case_id = ?", (change.case_id,))
            db.executemany(
                "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)",
                [(topic, partition, offset) for (topic, partition), offset in offsets.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def case(self, case_id: str) -> CaseState | None:
        """See :meth:`CaseStore.case`."""
        row = self._db.execute("SELECT value FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return load_state(row[0]) if row is not None else None

    def cases(self, query: CaseQuery) -> tuple[list[CaseState], int]:
        """See :meth:`CaseStore.cases`."""
        where, params = _filters(query)
        total = self._db.execute(f"SELECT count(*) FROM cases{where}", params).fetchone()[0]  # noqa: S608
        rows = self._db.execute(
            f"SELECT value FROM cases{where} ORDER BY updated_us DESC, case_id "  # noqa: S608
            "LIMIT ? OFFSET ?",
            [*params, query.per_page, (query.page - 1) * query.per_page],
        )
        return [load_state(value) for (value,) in rows], int(total)

    def states(self, *, touched_since: datetime | None = None) -> Iterator[CaseState]:
        """See :meth:`CaseStore.states`."""
        if touched_since is None:
            rows = self._db.execute("SELECT value FROM cases")
        else:
            rows = self._db.execute(
                "SELECT value FROM cases WHERE updated_us >= ? OR status NOT IN (?, ?)",
                (to_us(touched_since), *DONE_STATUSES),
            )
        for (value,) in rows:
            yield load_state(value)

    def refusal(self, action_id: str) -> Refusal | None:
        """See :meth:`CaseStore.refusal`."""
        row = self._db.execute(
            "SELECT action_id, case_id, kind, message FROM refusals WHERE action_id = ?",
            (action_id,),
        ).fetchone()
        return Refusal(*row) if row is not None else None

    def close(self) -> None:
        """See :meth:`CaseStore.close`."""
        self._db.close()


def _filters(query: CaseQuery) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if query.district is not None:
        clauses.append("district = ?")
        params.append(query.district)
    if query.status is not None:
        clauses.append("status = ?")
        params.append(query.status)
    if query.overdue_at is not None:
        clauses.append("next_due_us IS NOT NULL AND next_due_us <= ?")
        params.append(to_us(query.overdue_at))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
