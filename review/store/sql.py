"""The case store's tables and statements, shared by SQLite and PostgreSQL.

Both dialects agree on the SQL used here (``INSERT ... ON CONFLICT (...) DO
UPDATE SET c = excluded.c``, ``BIGINT``, ``LIMIT``); they differ only in the
placeholder (``?`` / ``%s``), the binary type (``BLOB`` / ``BYTEA``) and how a
transaction is opened, which a backend supplies as a :class:`Dialect` and two
small hooks. :class:`SqlCaseStore` is everything else of
:class:`review.store.base.CaseStore`.

A store whose recorded schema version differs from :data:`SCHEMA_VERSION` is
dropped and built anew: it is a materialisation, and its sink then replays the
topics from their beginning.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any, Protocol

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

SCHEMA_VERSION = "2"
STATE_PAGE = 2000
TABLES = ("cases", "events", "risk_alerts", "sla_alerts", "refusals", "offsets", "meta")

_DDL = """
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY, district TEXT, status TEXT NOT NULL, urgency TEXT NOT NULL,
    category TEXT NOT NULL, street TEXT, dispatched_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL, next_due_us BIGINT, value {blob} NOT NULL);
CREATE INDEX IF NOT EXISTS cases_district ON cases (district, updated_us);
CREATE INDEX IF NOT EXISTS cases_due ON cases (next_due_us);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, topic TEXT NOT NULL, district TEXT,
    event_type TEXT NOT NULL, channel TEXT NOT NULL, external_id TEXT NOT NULL,
    category TEXT NOT NULL, street TEXT, employer_name TEXT, employer_uscc TEXT,
    person_key TEXT, people BIGINT NOT NULL, reported_us BIGINT NOT NULL,
    dispatched_us BIGINT NOT NULL, summary TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events (dispatched_us);
CREATE INDEX IF NOT EXISTS events_case ON events (case_id);
CREATE TABLE IF NOT EXISTS risk_alerts (
    alert_id TEXT PRIMARY KEY, kind TEXT NOT NULL, district TEXT, employer_name TEXT,
    employer_uscc TEXT, cases BIGINT NOT NULL, persons BIGINT NOT NULL,
    people BIGINT NOT NULL, open_until_us BIGINT NOT NULL, raised_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS sla_alerts (
    alert_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, district TEXT, clock TEXT NOT NULL,
    level TEXT NOT NULL, reopening BIGINT NOT NULL, due_us BIGINT, level_us BIGINT NOT NULL,
    raised_us BIGINT NOT NULL, urgency TEXT NOT NULL, category TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sla_case ON sla_alerts (case_id);
CREATE TABLE IF NOT EXISTS refusals (
    action_id TEXT PRIMARY KEY, case_id TEXT, kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition_id BIGINT NOT NULL, next_offset BIGINT NOT NULL,
    PRIMARY KEY (topic, partition_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_COLUMNS = {
    "cases": (
        "case_id district status urgency category street dispatched_us updated_us next_due_us value"
    ),
    "events": (
        "event_id case_id topic district event_type channel external_id category street "
        "employer_name employer_uscc person_key people reported_us dispatched_us summary"
    ),
    "risk_alerts": (
        "alert_id kind district employer_name employer_uscc cases persons people "
        "open_until_us raised_us updated_us"
    ),
    "sla_alerts": (
        "alert_id case_id district clock level reopening due_us level_us raised_us urgency category"
    ),
    "refusals": "action_id case_id kind message",
    "offsets": "topic partition_id next_offset",
    "meta": "key value",
}
_KEYS = {"offsets": ("topic", "partition_id")}


def upsert(table: str, *, keep_first: bool = False) -> str:
    """``INSERT ... ON CONFLICT`` of a whole row: the new one wins (or the first, if asked)."""
    columns = _COLUMNS[table].split()
    keys = _KEYS.get(table, (columns[0],))
    marks = ", ".join("?" for _ in columns)
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
    if keep_first:
        return head + f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return head + f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"


_UPSERT_CASE = upsert("cases")
_UPSERT_EVENT = upsert("events", keep_first=True)  # the same event on a second topic
_UPSERT_RISK = upsert("risk_alerts")
_UPSERT_SLA = upsert("sla_alerts")
_UPSERT_REFUSAL = upsert("refusals")
_UPSERT_OFFSET = upsert("offsets")
_UPSERT_META = upsert("meta")


class Cursor(Protocol):
    """What both drivers' cursors offer."""

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        ...

    def fetchone(self) -> Any:
        """The next row, or None."""
        ...


@dataclass(frozen=True)
class Dialect:
    """Where the two databases differ in the SQL text."""

    placeholder: str  # "?" or "%s"
    blob: str  # "BLOB" or "BYTEA"

    def sql(self, text: str) -> str:
        """``text`` (written with ``?``) in this dialect."""
        if self.placeholder == "?":
            return text
        return text.replace("%", "%%").replace("?", self.placeholder)


class SqlCaseStore:
    """:class:`review.store.base.CaseStore` over any SQL database a subclass connects to."""

    dialect: Dialect

    # -- what a backend supplies --------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def _execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    # -- set-up -------------------------------------------------------------------------
    def _prepare(self, *, read_only: bool) -> None:
        """Create the tables, or rebuild them when the recorded schema is another's."""
        if read_only:
            return
        with self._transaction():
            self._execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = self._execute(
                self.dialect.sql("SELECT value FROM meta WHERE key = ?"), ("schema_version",)
            ).fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                for table in TABLES:
                    self._execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _DDL.format(blob=self.dialect.blob).split(";"):
                if statement.strip():
                    self._execute(statement)
            self._execute(self.dialect.sql(_UPSERT_META), ("schema_version", SCHEMA_VERSION))

    # -- CaseStore ----------------------------------------------------------------------
    def offsets(self) -> Offsets:
        """See :meth:`CaseStore.offsets`."""
        rows = self._execute("SELECT topic, partition_id, next_offset FROM offsets").fetchall()
        return {(topic, int(partition)): int(offset) for topic, partition, offset in rows}

    def apply(self, changes: list[Change], offsets: Offsets) -> None:
        """See :meth:`CaseStore.apply`."""
        sql = self.dialect.sql
        events: list[tuple[Any, ...]] = []
        risks: list[tuple[Any, ...]] = []
        slas: list[tuple[Any, ...]] = []
        refusals: list[tuple[Any, ...]] = []
        for change in changes:
            if change.refusal is not None:
                refusals.append(astuple(change.refusal))
            elif change.event is not None:
                events.append(astuple(change.event))
            elif change.risk is not None:
                risks.append(astuple(change.risk))
            elif change.sla is not None:
                slas.append(astuple(change.sla))
        with self._transaction():
            # Case rows in record order: a tombstone after a state deletes it, and back.
            for change in changes:
                if change.state is not None and change.value is not None:
                    self._execute(
                        sql(_UPSERT_CASE), astuple(CaseRow.of(change.state, change.value))
                    )
                elif change.deletes_case:
                    self._execute(sql("DELETE FROM cases WHERE case_id = ?"), (change.case_id,))
            for statement, rows in (
                (_UPSERT_EVENT, events),
                (_UPSERT_RISK, risks),
                (_UPSERT_SLA, slas),
                (_UPSERT_REFUSAL, refusals),
                (_UPSERT_OFFSET, [(t, p, o) for (t, p), o in offsets.items()]),
            ):
                if rows:
                    self._execute_many(sql(statement), rows)

    def case(self, case_id: str) -> CaseState | None:
        """See :meth:`CaseStore.case`."""
        row = self._execute(
            self.dialect.sql("SELECT value FROM cases WHERE case_id = ?"), (case_id,)
        ).fetchone()
        return load_state(bytes(row[0])) if row is not None else None

    def cases(self, query: CaseQuery) -> tuple[list[CaseState], int]:
        """See :meth:`CaseStore.cases`."""
        where, params = _filters(query)
        sql = self.dialect.sql
        total = self._execute(sql(f"SELECT count(*) FROM cases{where}"), params).fetchone()[0]  # noqa: S608
        rows = self._execute(
            sql(
                f"SELECT value FROM cases{where} ORDER BY updated_us DESC, case_id "  # noqa: S608
                "LIMIT ? OFFSET ?"
            ),
            [*params, query.per_page, (query.page - 1) * query.per_page],
        ).fetchall()
        return [load_state(bytes(value)) for (value,) in rows], int(total)

    def states(self, *, touched_since: datetime | None = None) -> Iterator[CaseState]:
        """See :meth:`CaseStore.states` (read page by page, by case id)."""
        where = ""
        params: list[Any] = []
        if touched_since is not None:
            where = " AND (updated_us >= ? OR status NOT IN (?, ?))"
            params = [to_us(touched_since), *DONE_STATUSES]
        after = ""
        while True:
            rows = self._execute(
                self.dialect.sql(
                    f"SELECT case_id, value FROM cases WHERE case_id > ?{where} "  # noqa: S608
                    "ORDER BY case_id LIMIT ?"
                ),
                [after, *params, STATE_PAGE],
            ).fetchall()
            for _, value in rows:
                yield load_state(bytes(value))
            if len(rows) < STATE_PAGE:
                return
            after = rows[-1][0]

    def refusal(self, action_id: str) -> Refusal | None:
        """See :meth:`CaseStore.refusal`."""
        row = self._execute(
            self.dialect.sql(
                "SELECT action_id, case_id, kind, message FROM refusals WHERE action_id = ?"
            ),
            (action_id,),
        ).fetchone()
        return Refusal(*row) if row is not None else None

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """See :meth:`CaseStore.select`."""
        return [tuple(row) for row in self._execute(self.dialect.sql(sql), params).fetchall()]

    def put_meta(self, key: str, value: str) -> None:
        """See :meth:`CaseStore.put_meta`."""
        with self._transaction():
            self._execute(self.dialect.sql(_UPSERT_META), (key, value))

    def meta(self, key: str) -> str | None:
        """See :meth:`CaseStore.meta`."""
        row = self._execute(
            self.dialect.sql("SELECT value FROM meta WHERE key = ?"), (key,)
        ).fetchone()
        return str(row[0]) if row is not None else None


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
