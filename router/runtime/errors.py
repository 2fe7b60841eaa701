"""Errors of the exactly-once stage runtime (``router.runtime``)."""

from __future__ import annotations

from unionhub.errors import UnionhubError


class StageRuntimeError(UnionhubError):
    """Base of the runtime's own errors."""


class StageConfigError(StageRuntimeError):
    """A stage was wired wrongly (e.g. a stateful stage over several input partitions)."""


class StateRestoreError(StageRuntimeError):
    """The changelog could not be replayed in time; the partition stays paused and is retried."""

    retriable = True
