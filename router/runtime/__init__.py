"""A small exactly-once stream runtime over aiokafka, running ``router.processor`` stages.

``StageRuntime(StageConfig(...), processor)`` consumes read_committed, and per
input-partition batch commits outputs, changelog writes and consumed offsets in
one transaction of that partition's own producer. See ``router/README.md``.
"""

from __future__ import annotations

from router.runtime.config import StageConfig
from router.runtime.errors import StageConfigError, StageRuntimeError, StateRestoreError
from router.runtime.producers import transactional_id
from router.runtime.stage import StageRuntime
from router.runtime.stats import StageCounters, StageStatus

__all__ = [
    "StageConfig",
    "StageConfigError",
    "StageCounters",
    "StageRuntime",
    "StageRuntimeError",
    "StageStatus",
    "StateRestoreError",
    "transactional_id",
]
