"""``RouterApp``: the router's two stages (:mod:`router.stages`) as tasks of one process.

Stage 1, *normalize* (with placement), is stateless and scales out; stage 2,
*dispatch* (dedupe, alerts, dispatch events), is stateful, one process owning
its single input partition while the others stand by. See ``router/README.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import structlog

from core.errors import UnionhubError
from core.settings import Settings
from router.calendars import CalendarFeed
from router.dispatch.loop import CalendarSource
from router.processor import Processor, StatefulProcessor
from router.runtime import StageRuntime, StageStatus
from router.stages import (
    DISPATCH_STAGE,
    NORMALIZE_STAGE,
    build_dispatch_processor,
    build_normalize_processor,
    dispatch_stage_config,
    normalize_stage_config,
)

log = structlog.get_logger(__name__)

NormalizeFactory = Callable[[Settings], Processor]
DispatchFactory = Callable[[Settings], StatefulProcessor]


@dataclass(frozen=True)
class RouterStatus:
    """Readiness of the whole router (every stage ready) and each stage's status."""

    ready: bool
    stages: tuple[StageStatus, ...]


class RouterApp:
    """Runs the normalize and dispatch stages as two tasks until :meth:`stop`.

    ``settings.router_stages`` may name one stage only: a deployment may run
    the stateful dispatch stage on one process and normalize on the others.

    The processors come from :mod:`router.stages` unless factories are given
    (tests give their own). If one stage fails, the other is stopped and :meth:`run`
    raises the failure.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        normalize: NormalizeFactory | None = None,
        dispatch: DispatchFactory | None = None,
        client_id: str | None = None,
        calendar: CalendarSource | None = None,
    ) -> None:
        self._settings = settings
        self._normalize_factory = normalize
        self._dispatch_factory = dispatch
        self._client_id = client_id
        self._calendar = calendar
        self._runtimes: list[StageRuntime] = []
        self._stopping = False
        self._stopped = asyncio.Event()

    @classmethod
    def with_calendar(cls, settings: Settings, calendar: CalendarSource) -> RouterApp:
        """The router with its case loop on ``calendar`` (a daemon's own calendar feed)."""
        return cls(settings, calendar=calendar)

    def stop(self) -> None:
        """Ask every stage to finish its batch, close its producers and leave its group."""
        self._stopping = True
        self._stopped.set()
        for runtime in self._runtimes:
            runtime.stop()

    def status(self) -> RouterStatus:
        """Every stage's status; ``ready`` once all stages are."""
        stages = tuple(runtime.status() for runtime in self._runtimes)
        return RouterStatus(ready=bool(stages) and all(s.ready for s in stages), stages=stages)

    async def run(self) -> None:
        """Run both stages until :meth:`stop` (or until one of them fails, which is raised)."""
        tune_garbage_collector()
        feed = self._calendar_feed()
        if feed is not None:
            with contextlib.suppress(UnionhubError):  # the shipped calendar until it answers
                await feed.refresh()
        calendar = self._calendar or (feed.current if feed is not None else None)
        normalize_factory = self._normalize_factory or build_normalize_processor
        dispatch_factory = self._dispatch_factory or (
            lambda settings: build_dispatch_processor(settings, calendar)
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
        if feed is not None:
            tasks.append(asyncio.create_task(feed.run(self._stopped), name="router-calendar"))
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

    def _calendar_feed(self) -> CalendarFeed | None:
        """A calendar feed of its own, for a router run without a daemon's."""
        runs_dispatch = self._settings.router_stages in ("all", DISPATCH_STAGE)
        wanted = self._calendar is None and self._dispatch_factory is None
        return (
            CalendarFeed(self._settings)
            if wanted and runs_dispatch and self._settings.case_loop
            else None
        )


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
