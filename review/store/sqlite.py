"""The case store in one SQLite file (the default: embedded, nothing to run).

SQLite rather than DuckDB: the daemon writes the file while ``unionhub report``
and other readers open it from their own processes, which SQLite's WAL allows
and DuckDB's single-writer file lock does not. A reader opens the file
read-only (``mode=ro``) and never blocks the writer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from review.store.sql import Cursor, Dialect, SqlCaseStore


class SqliteCaseStore(SqlCaseStore):
    """:class:`review.store.base.CaseStore` over SQLite (``path`` None: in memory)."""

    dialect = Dialect(placeholder="?", blob="BLOB")

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        if read_only:
            if path is None or not path.exists():
                raise ConfigError("case store", f"no case store at {path}: has the daemon run?")
            self._db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                ":memory:" if path is None else path, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._prepare(read_only=read_only)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, params)

    def _execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._db.executemany(sql, rows)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """See :meth:`CaseStore.close`."""
        self._db.close()
