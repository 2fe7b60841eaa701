"""The queryable case store: one interface, SQLite embedded by default, PostgreSQL to deploy.

:func:`open_case_store` picks the backend the settings name
(``UNIONHUB_CASE_STORE``), once, for the daemon (the writer) and for readers
(``unionhub report``, the board's snapshots).
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigError
from core.settings import Settings
from review.store.base import CaseStore


def case_store_path(settings: Settings) -> Path:
    """Where the embedded case store of ``settings``' namespace lives."""
    return settings.state_dir / "review" / f"{settings.namespace}cases.sqlite"


def open_case_store(settings: Settings, *, read_only: bool = False) -> CaseStore:
    """The case store ``settings`` select: SQLite under the state dir, or PostgreSQL."""
    if settings.case_store == "postgresql":
        from review.store.postgres import PostgresCaseStore, schema_for

        if settings.case_store_dsn is None:
            raise ConfigError(
                "UNIONHUB_CASE_STORE_DSN", "required with UNIONHUB_CASE_STORE=postgresql"
            )
        return PostgresCaseStore(
            settings.case_store_dsn.get_secret_value(),
            schema=schema_for(settings.namespace),
            read_only=read_only,
        )
    from review.store.sqlite import SqliteCaseStore

    return SqliteCaseStore(case_store_path(settings), read_only=read_only)
