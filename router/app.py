"""``RouterApp``: the router's two stages in one process.

Stage 1, *normalize*, is stateless: it reads every ``intake.raw.*`` partition
in group ``<ns>unionhub-router-normalize`` and scales out over as many
processes as there are input partitions. It writes the one-partition topic
``unionhub.router.normalized``, which gives stage 2 a single total order.

Stage 2, *dispatch* (place, dedupe, dispatch, alerts), is stateful: it reads
that one partition in group ``<ns>unionhub-router-dispatch``, so exactly one
process owns it while the others stand by; a standby that is handed the
partition restores the state from ``unionhub.router.state`` first. See
``router/README.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import structlog

from router.processor import Processor, StatefulProcessor
from router.runtime import StageConfig, StageConfigError, StageRuntime, StageStatus
from unionhub.kafka.topics import TopicCatalog
from unionhub.settings import Settings

log = structlog.get_logger(__name__)

NORMALIZE_STAGE = "normalize"
DISPATCH_STAGE = "dispatch"

# Records per transaction at most (one poll): fewer, larger transactions when there is
# a backlog (each costs five round trips and a marker per partition written); under a
# steady load a poll holds what arrived since the last one, whatever this is.
MAX_BATCH_RECORDS = 2000
# A fetch per partition large enough for such a batch (reports are 1 to 3 KB).
MAX_PARTITION_FETCH_BYTES = 4 * 1024 * 1024
# Under a steady load, stage 1's 15 input partitions would each commit a transaction of
# a few records per poll: hold each partition's records up to this long first. Stage 2
# reads one partition, so holds briefly only.
NORMALIZE_LINGER_MS = 100
DISPATCH_LINGER_MS = 20

NormalizeFactory = Callable[[Settings], Processor]
DispatchFactory = Callable[[Settings], StatefulProcessor]


def normalize_stage_config(settings: Settings, client_id: str | None = None) -> StageConfig:
    """Stage 1's wiring: every raw topic in, ``router_normalized`` (via the processor) out."""
    topics = TopicCatalog(settings.namespace)
    name = f"{settings.namespace}unionhub-router-{NORMALIZE_STAGE}"
    return StageConfig(
        name=NORMALIZE_STAGE,
        bootstrap=settings.kafka_bootstrap,
        input_topics=tuple(topics.raw_topics()),
        group_id=name,
        transactional_id_prefix=name,
        dead_letter_topic=topics.router_dlq,
        session_timeout_ms=settings.router_session_timeout_ms,
        client_id=client_id,
        max_batch_records=MAX_BATCH_RECORDS,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        linger_ms=NORMALIZE_LINGER_MS,
    )


def dispatch_stage_config(settings: Settings, client_id: str | None = None) -> StageConfig:
    """Stage 2's wiring: ``router_normalized`` in, state in the ``router_state`` changelog."""
    topics = TopicCatalog(settings.namespace)
    name = f"{settings.namespace}unionhub-router-{DISPATCH_STAGE}"
    return StageConfig(
        name=DISPATCH_STAGE,
        bootstrap=settings.kafka_bootstrap,
        input_topics=(topics.router_normalized,),
        group_id=name,
        transactional_id_prefix=name,
        dead_letter_topic=topics.router_dlq,
        changelog_topic=topics.router_state,
        session_timeout_ms=settings.router_session_timeout_ms,
        client_id=client_id,
        max_batch_records=MAX_BATCH_RECORDS,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        linger_ms=DISPATCH_LINGER_MS,
    )


@dataclass(frozen=True)
class RouterStatus:
    """Readiness of the whole router (every stage ready) and each stage's status."""

    ready: bool
    stages: tuple[StageStatus, ...]


class RouterApp:
    """Runs the normalize and dispatch stages as two tasks until :meth:`stop`.

    ``settings.router_stages`` may name one stage only: a deployment may run
    the stateful dispatch stage on one process and normalize on the others.

    The processors come from ``router.stages`` unless factories are given (tests
    give their own). If one stage fails, the other is stopped and :meth:`run`
    raises the failure.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        normalize: NormalizeFactory | None = None,
        dispatch: DispatchFactory | None = None,
        client_id: str | None = None,
    ) -> None:
        self._settings = settings
        self._normalize_factory = normalize
        self._dispatch_factory = dispatch
        self._client_id = client_id
        self._runtimes: list[StageRuntime] = []
        self._stopping = False

    def stop(self) -> None:
        """Ask every stage to finish its batch, close its producers and leave its group."""
        self._stopping = True
        for runtime in self._runtimes:
            runtime.stop()

    def status(self) -> RouterStatus:
        """Every stage's status; ``ready`` once all stages are."""
        stages = tuple(runtime.status() for runtime in self._runtimes)
        return RouterStatus(ready=bool(stages) and all(s.ready for s in stages), stages=stages)

    async def run(self) -> None:
        """Run both stages until :meth:`stop` (or until one of them fails, which is raised)."""
        tune_garbage_collector()
        normalize_factory = self._normalize_factory or _stage_factory("build_normalize_processor")
        dispatch_factory = self._dispatch_factory or cast(
            DispatchFactory, _stage_factory("build_dispatch_processor")
        )
        stages = self._settings.router_stages
        self._runtimes = []
        if stages in ("all", NORMALIZE_STAGE):
            self._runtimes.append(
                StageRuntime(
                    normalize_stage_config(self._settings, self._client_id),
                    normalize_factory(self._settings),
                )
            )
        if stages in ("all", DISPATCH_STAGE):
            self._runtimes.append(
                StageRuntime(
                    dispatch_stage_config(self._settings, self._client_id),
                    dispatch_factory(self._settings),
                )
            )
        if self._stopping:
            return
        tasks = [
            asyncio.create_task(runtime.run(), name=f"router-{runtime.name}")
            for runtime in self._runtimes
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = [task for task in done if not task.cancelled() and task.exception()]
            if failed:
                self.stop()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise cast(BaseException, failed[0].exception())
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


# Young objects between collections (CPython's default is 700), and how rarely the
# older generations are collected.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """Collect cyclic garbage less often: a router process's best setting, process-wide.

    Each record allocates thousands of short-lived objects (models, dicts,
    strings) that reference counting frees, while the dispatch stage holds a
    large long-lived state; with CPython's default thresholds the cyclic
    collector runs every 700 allocations and took a fifth of the dispatch
    stage's time in the benchmark's profile (processors in process: 3,200 ->
    4,700 records/s with these thresholds).
    """
    gc.set_threshold(*GC_THRESHOLDS)


def _stage_factory(name: str) -> NormalizeFactory:
    try:
        stages = importlib.import_module("router.stages")
    except ImportError as exc:
        raise StageConfigError(f"router.stages cannot be imported: {exc}") from exc
    factory = getattr(stages, name, None)
    if not callable(factory):
        raise StageConfigError(f"router.stages has no factory {name}")
    return cast(NormalizeFactory, factory)
