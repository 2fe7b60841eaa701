"""``Daemon``: connectors, router and the admin/metrics HTTP server in one process.

One asyncio process (the design choice, documented in ``unionhub/daemon/README.md``):
the connectors are independent tasks supervised by :class:`ConnectorSupervisor`
(a failing one shows FAILED and is retried with backoff, the rest go on), the
router's two stages are tasks of :class:`RouterApp` (restarted with backoff if
they fail), and the config topic is watched so an admin change applies within
about a second. Stopping (SIGTERM/SIGINT) stops the connectors and the router
within their grace periods, then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiohttp import web

from connectors.base import SourceContext
from connectors.secrets import SecretResolver
from core.errors import UnionhubError
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.app import RouterApp, RouterStatus
from router.calendars import CalendarFeed
from router.dispatch.loop import CalendarSource
from unionhub.admin.service import AdminService, shape_validator
from unionhub.admin.statustopic import StatusPublisher, WorkerStatus, now_iso
from unionhub.configstore import ConfigStore
from unionhub.daemon.caseloop import CaseLoopServices
from unionhub.daemon.metrics import DaemonCollector, daemon_registry
from unionhub.daemon.server import build_app
from unionhub.daemon.supervisor import Backoff, ConnectorSupervisor
from unionhub.daemon.tally import DispatchTally

log = structlog.get_logger(__name__)

TICK_S = 1.0
WORKER_STATUS_EVERY_TICKS = 5
ROUTER_GRACE_S = 10.0
BIND_HOST = "0.0.0.0"  # noqa: S104 - the daemon serves probes and metrics in a container

RouterFactory = Callable[[Settings, CalendarSource], RouterApp]


class Daemon:
    """Runs until its ``stop`` event is set; :meth:`run` returns the exit code."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        *,
        worker_id: str | None = None,
        router_factory: RouterFactory | None = RouterApp.with_calendar,
        backoff: Backoff | None = None,
    ) -> None:
        self._settings = settings
        self._environ = dict(environ)
        self._catalog = TopicCatalog(settings.namespace)
        self.worker_id = worker_id or f"{socket.gethostname()}"
        self._router_factory = router_factory
        self._router: RouterApp | None = None
        self._router_failures = 0
        self._configs_loaded = False
        self._broker_ok = False
        self.port: int | None = None
        self.publisher = StatusPublisher(
            settings.kafka_bootstrap,
            self._catalog.connector_status,
            client_id=self._catalog.client_id("daemon.status"),
        )
        self.supervisor = ConnectorSupervisor(
            SourceContext.from_settings(settings),
            self._environ,
            settings.secrets_dir,
            self.publisher,
            self.worker_id,
            backoff=backoff,
        )
        self.calendar = CalendarFeed(settings)
        self.tally = DispatchTally(
            settings.kafka_bootstrap,
            self._catalog,
            client_id=self._catalog.client_id("daemon.tally"),
        )

    # -- probes ----------------------------------------------------------------
    def router_status(self) -> RouterStatus | None:
        """The router's status, None while it is not running (or not run here)."""
        return self._router.status() if self._router is not None else None

    def readiness(self) -> dict[str, bool]:
        """Each readiness check: broker reachable, configs read, router state restored."""
        status = self.router_status()
        router_ready = self._router_factory is None or (status is not None and status.ready)
        return {
            "broker_reachable": self._broker_ok,
            "configs_loaded": self._configs_loaded,
            "router_ready": router_ready,
        }

    # -- the run -----------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> int:
        """Serve until ``stop`` is set; 0 after a clean stop."""
        token = self._settings.admin_token
        store = ConfigStore(
            self._settings.kafka_bootstrap,
            self._catalog,
            validate=shape_validator(self._settings),
            instance_id=f"daemon-{self.worker_id}",
        )
        await store.start()
        tasks: list[asyncio.Task[Any]] = []
        runner: web.AppRunner | None = None
        loop: CaseLoopServices | None = None
        try:
            await self.publisher.start()
            await self.tally.start()
            service = AdminService(
                self._settings, store, self._environ, local_status=self.supervisor.status
            )
            collector = DaemonCollector(self.supervisor, self.router_status, self.tally)
            loop = self._case_loop(store)
            app = build_app(
                service,
                daemon_registry(collector, *([loop.figures_collector()] if loop else [])),
                self.readiness,
                token.get_secret_value() if token is not None else None,
                extra_middlewares=[loop.middleware()] if loop else [],
                mount=[loop.mount] if loop else [],
            )
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, BIND_HOST, self._settings.http_port)
            await site.start()
            self.port = _bound_port(runner, self._settings.http_port)
            log.info("daemon listening", port=self.port, worker_id=self.worker_id)

            watch = store.watch()
            await self.supervisor.load(await store.snapshot())
            self._configs_loaded = True
            tasks = [
                asyncio.create_task(self._apply_changes(watch), name="daemon-config-watch"),
                asyncio.create_task(self._tick(stop), name="daemon-tick"),
                asyncio.create_task(self.tally.run(stop), name="daemon-tally"),
            ]
            if loop is not None:
                tasks.append(asyncio.create_task(loop.run(stop), name="daemon-case-store"))
                tasks.append(asyncio.create_task(self.calendar.run(stop), name="daemon-calendar"))
            if self._router_factory is not None:
                tasks.append(asyncio.create_task(self._run_router(stop), name="daemon-router"))
            await stop.wait()
            log.info("daemon stopping")
            watch.close()
        finally:
            await self._shut_down(tasks)
            if runner is not None:
                await runner.cleanup()
            if loop is not None:
                await loop.close()
            await self.tally.stop()
            await store.stop()
            with contextlib.suppress(UnionhubError):
                await self.publisher.forget_worker(self.worker_id)
            await self.publisher.stop()
        log.info("daemon stopped")
        return 0

    def _case_loop(self, store: ConfigStore) -> CaseLoopServices | None:
        """The case store, case API and figures, when the case loop is on."""
        if not self._settings.case_loop:
            return None
        resolver = SecretResolver(self._environ, self._settings.secrets_dir)
        return CaseLoopServices(self._settings, store, resolver, self.calendar.current)

    async def _shut_down(self, tasks: list[asyncio.Task[Any]]) -> None:
        if self._router is not None:
            self._router.stop()
        await self.supervisor.stop_all()
        done, pending = await asyncio.wait(tasks, timeout=ROUTER_GRACE_S) if tasks else ((), ())
        for task in pending:
            task.cancel()
        for task in [*done, *pending]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _apply_changes(self, watch: Any) -> None:
        async for change in watch:
            try:
                await self.supervisor.apply(change)
            except Exception:  # one bad change must not end the watch
                log.exception("config change not applied", connector=change.name)

    async def _tick(self, stop: asyncio.Event) -> None:
        ticks = 0
        while not stop.is_set():
            await self.supervisor.tick()
            if ticks % WORKER_STATUS_EVERY_TICKS == 0:
                await self._publish_worker()
            ticks += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=TICK_S)

    async def _publish_worker(self) -> None:
        status = self.router_status()
        dispatch = None
        if status is not None:
            dispatch = next((s for s in status.stages if s.state_size is not None), None)
        lag = None
        if status is not None and status.stages:
            lag = sum(s.lag or 0 for s in status.stages)
        try:
            await self.publisher.worker(
                WorkerStatus(
                    worker_id=self.worker_id,
                    ready=all(self.readiness().values()),
                    router_lag=lag,
                    router_state_size=dispatch.state_size if dispatch is not None else None,
                    connectors=self.supervisor.names(),
                    updated_at=now_iso(),
                    stage_lag={s.stage: s.lag for s in status.stages} if status else {},
                )
            )
        except UnionhubError as exc:
            self._broker_ok = False
            log.warning("worker status not published", error=str(exc))
        else:
            self._broker_ok = True

    async def _run_router(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        factory = self._router_factory
        while factory is not None and not stop.is_set():
            self._router = factory(self._settings, self.calendar.current)
            try:
                await self._router.run()
            except Exception:  # any router failure is retried, never fatal
                self._router_failures += 1
                wait = backoff.wait_s(self._router_failures)
                log.exception("router failed; restarting", retry_in_s=wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
            else:
                return


def _bound_port(runner: web.AppRunner, wanted: int) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        for sock in sockets:
            return int(sock.getsockname()[1])
    return wanted
