"""The case store in PostgreSQL (the deployment option), behind the same interface.

One schema per namespace (``unionhub`` for the empty one, ``unionhub_<ns>``
otherwise), so tests and sites share a server without seeing each other's
tables. psycopg 3, one connection in autocommit mode: each :meth:`apply` is an
explicit transaction, every read its own statement. A reader connection is
made read-only (``default_transaction_read_only``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql as pgsql

from core.errors import ConfigError
from review.store.sql import Cursor, Dialect, SqlCaseStore


def schema_for(namespace: str) -> str:
    """The PostgreSQL schema of a topic namespace (letters, digits and ``_`` only)."""
    cleaned = re.sub(r"[^a-z0-9_]", "_", namespace.lower()).strip("_")
    return f"unionhub_{cleaned}" if cleaned else "unionhub"


class PostgresCaseStore(SqlCaseStore):
    """:class:`review.store.base.CaseStore` over PostgreSQL, in schema ``schema``."""

    dialect = Dialect(placeholder="%s", blob="BYTEA")

    def __init__(self, dsn: str, *, schema: str = "unionhub", read_only: bool = False) -> None:
        try:
            self._db = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            # The driver's message may carry the DSN's host and user, never its password.
            raise ConfigError("UNIONHUB_CASE_STORE_DSN", "PostgreSQL did not accept it") from exc
        self.schema = schema
        if not read_only:
            self._db.execute(
                pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
            )
        self._db.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
        if read_only:
            self._db.execute("SET default_transaction_read_only = on")
        self._prepare(read_only=read_only)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, params)

    def _execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(sql, rows)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    def close(self) -> None:
        """See :meth:`CaseStore.close`."""
        self._db.close()
