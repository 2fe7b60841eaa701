"""Errors of the exactly-once stage runtime (``router.runtime``)."""

from __future__ import annotations

from router.errors import RouterError


class StageRuntimeError(RouterError):
    """Base of the runtime's own errors."""


class StageConfigError(StageRuntimeError):
    """A stage was wired wrongly (e.g. a stateful stage over several input partitions)."""


class StateRestoreError(StageRuntimeError):
    """The changelog could not be replayed in time; the partition stays paused and is retried."""

    retriable = True
