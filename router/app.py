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
    )


@dataclass(frozen=True)
class RouterStatus:
    """Readiness of the whole router (every stage ready) and each stage's status."""

    ready: bool
    stages: tuple[StageStatus, ...]


class RouterApp:
    """Runs the normalize and dispatch stages as two tasks until :meth:`stop`.

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
        normalize_factory = self._normalize_factory or _stage_factory("build_normalize_processor")
        dispatch_factory = self._dispatch_factory or cast(
            DispatchFactory, _stage_factory("build_dispatch_processor")
        )
        self._runtimes = [
            StageRuntime(
                normalize_stage_config(self._settings, self._client_id),
                normalize_factory(self._settings),
            ),
            StageRuntime(
                dispatch_stage_config(self._settings, self._client_id),
                dispatch_factory(self._settings),
            ),
        ]
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


def _stage_factory(name: str) -> NormalizeFactory:
    try:
        stages = importlib.import_module("router.stages")
    except ImportError as exc:
        raise StageConfigError(f"router.stages cannot be imported: {exc}") from exc
    factory = getattr(stages, name, None)
    if not callable(factory):
        raise StageConfigError(f"router.stages has no factory {name}")
    return cast(NormalizeFactory, factory)
