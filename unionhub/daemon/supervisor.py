"""``ConnectorSupervisor``: runs the connectors the config topic holds, as it changes.

Applies each :class:`ConfigChange` (created or reconfigured: rebuild and
start; paused: stop; resumed: start; deleted: stop and forget). A connector
that fails (bad config, refused credentials, crash) shows FAILED with its
reason and is started again after an exponential backoff; the others go on.
Every state change is published to the status topic.

A reply sink (``type: sink``) is a connector too; it is built over the stored
config of the source connector it names (:func:`connectors.registry.build_sink`),
so it is rebuilt whenever that config changes (a rotated secret reaches both),
and fails, saying why, while that connector is absent or cannot reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import structlog

from connectors.base import Source, SourceContext, SourceHealth, SourceState
from connectors.config import is_sink, parse_config, parse_sink_config
from connectors.registry import build_sink, build_source
from connectors.secrets import SecretResolver
from core.errors import ConfigError, UnionhubError
from core.logging import masker
from unionhub.admin.statustopic import ConnectorState, ConnectorStatus, StatusPublisher, now_iso
from unionhub.configstore import ConfigChange, StoredConnector, TargetState
from unionhub.daemon.stations import StationObserver

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Waits before restarting a failed connector: ``initial_s`` doubling up to ``cap_s``."""

    initial_s: float = 1.0
    cap_s: float = 60.0

    def wait_s(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (1-based)."""
        return float(min(self.cap_s, self.initial_s * 2 ** max(failures - 1, 0)))


@dataclass
class Managed:
    """One connector as this daemon runs it."""

    stored: StoredConnector
    channel: str
    source: Source | None = None
    state: ConnectorState = ConnectorState.STARTING
    reason: str | None = None
    failures: int = 0
    restarts: int = 0
    retry_at: float | None = None
    upstream_errors: int = 0
    last_error_seen: str | None = None
    # Totals of sources replaced by a restart, so counters only grow.
    carried: dict[str, int] = field(default_factory=lambda: {"records": 0, "dead_letters": 0})


class ConnectorSupervisor:
    """Starts, stops, watches and restarts connectors; reports their status."""

    def __init__(
        self,
        context: SourceContext,
        environ: Mapping[str, str],
        secrets_dir: Path | None,
        publisher: StatusPublisher | None,
        worker_id: str,
        *,
        backoff: Backoff | None = None,
        stop_grace_s: float = 5.0,
    ) -> None:
        self._context = context
        self._resolver = SecretResolver(dict(environ), secrets_dir)
        self._publisher = publisher
        self._worker_id = worker_id
        self._backoff = backoff or Backoff()
        self._grace_s = stop_grace_s
        self._connectors: dict[str, Managed] = {}
        self._lock = asyncio.Lock()
        self._closed = False  # after stop_all nothing starts again
        self.stations = StationObserver()

    # -- what others read ----------------------------------------------------
    def names(self) -> list[str]:
        """Names of the connectors this daemon manages."""
        return sorted(self._connectors)

    def status(self, name: str) -> ConnectorStatus | None:
        """The current status of ``name``, None if this daemon does not manage it."""
        managed = self._connectors.get(name)
        return None if managed is None else self._status_of(name, managed)

    def statuses(self) -> list[ConnectorStatus]:
        """The current status of every managed connector."""
        return [self._status_of(n, m) for n, m in sorted(self._connectors.items())]

    # -- changes -------------------------------------------------------------
    async def apply(self, change: ConfigChange) -> None:
        """Apply one change of the config topic (ignored once :meth:`stop_all` ran)."""
        async with self._lock:
            if self._closed:
                return
            current = self._connectors.get(change.name)
            if (
                current is not None
                and change.connector is not None
                and current.stored.offset >= change.connector.offset
            ):
                return  # already applied (a snapshot and the watch both report a change)
            if change.kind == "deleted" or change.connector is None:
                await self._remove(change.name)
            elif change.kind == "config":
                await self._reconfigure(change.connector)
            else:
                await self._retarget(change.connector)

    async def load(self, connectors: Mapping[str, StoredConnector]) -> None:
        """Start from a snapshot of the config topic (sources first: sinks build on them)."""
        ordered = sorted(connectors.values(), key=lambda c: is_sink(c.config))
        for stored in ordered:
            await self.apply(ConfigChange("config", stored.name, stored, stored.offset))

    async def tick(self) -> None:
        """Notice failures, restart connectors whose backoff is over, publish statuses."""
        now = asyncio.get_running_loop().time()
        async with self._lock:
            if self._closed:
                return
            for name, managed in list(self._connectors.items()):
                self._count_errors(managed)
                source = managed.source
                if source is not None:
                    self.stations.observe(name, source, datetime.now(UTC))
                if source is not None and source.health().state is SourceState.FAILED:
                    await self._failed(name, managed, source.health().last_error)
                elif (
                    managed.state is ConnectorState.FAILED
                    and managed.retry_at is not None
                    and now >= managed.retry_at
                    and managed.stored.target_state is TargetState.RUNNING
                ):
                    managed.restarts += 1
                    await self._start(managed)
                elif (
                    managed.state is ConnectorState.STARTING
                    and source is not None
                    and source.health().state is SourceState.RUNNING
                    and source.health().last_success_at is not None
                ):
                    managed.state = ConnectorState.RUNNING
                    managed.failures = 0
                    managed.reason = None
            await self.publish_all()

    async def stop_all(self) -> None:
        """Stop every connector (the daemon is shutting down); statuses say STOPPED."""
        async with self._lock:
            self._closed = True
            await asyncio.gather(*(self._stop_source(m) for m in self._connectors.values()))
            for managed in self._connectors.values():
                managed.state = ConnectorState.STOPPED
            await self.publish_all()

    async def publish_all(self) -> None:
        """Publish every managed connector's status (best effort: Kafka may be away)."""
        for name, managed in list(self._connectors.items()):
            if not await self._publish(name, managed):
                return  # Kafka is away: the next tick tries again, not every connector now

    # -- internals -------------------------------------------------------------
    async def _reconfigure(self, stored: StoredConnector) -> None:
        previous = self._connectors.pop(stored.name, None)
        if previous is not None:
            await self._stop_source(previous)
        managed = Managed(stored=stored, channel=str(stored.config.get("channel", "")))
        if previous is not None:
            managed.carried = self._totals(previous)
            managed.upstream_errors = previous.upstream_errors
            managed.restarts = previous.restarts + 1
        self._connectors[stored.name] = managed
        if stored.target_state is TargetState.PAUSED:
            managed.state = ConnectorState.PAUSED
        else:
            await self._start(managed)
        log.info("connector configured", connector=stored.name, state=str(managed.state))
        await self._publish(stored.name, managed)
        if not is_sink(stored.config):
            await self._rebuild_sinks_of(stored.name)

    async def _rebuild_sinks_of(self, connector: str) -> None:
        """Rebuild the sinks over ``connector`` (its config changed, or it was removed)."""
        for name, managed in list(self._connectors.items()):
            config = managed.stored.config
            if is_sink(config) and config.get("connector") == connector:
                await self._reconfigure(replace(managed.stored))
                log.info("reply sink rebuilt", connector=name, over=connector)

    async def _retarget(self, stored: StoredConnector) -> None:
        managed = self._connectors.get(stored.name)
        if managed is None:
            await self._reconfigure(stored)
            return
        managed.stored = stored
        if stored.target_state is TargetState.PAUSED:
            await self._stop_source(managed)
            managed.state = ConnectorState.PAUSED
            managed.retry_at = None
        elif managed.source is None:
            managed.failures = 0
            await self._start(managed)
        log.info("connector target state", connector=stored.name, state=str(managed.state))
        await self._publish(stored.name, managed)

    async def _remove(self, name: str) -> None:
        managed = self._connectors.get(name)
        if managed is None:
            return
        # Stopped before it is forgotten: once gone from status and metrics, it polls no more.
        await self._stop_source(managed)
        del self._connectors[name]
        self.stations.forget(name)
        log.info("connector removed", connector=name)
        if not is_sink(managed.stored.config):
            await self._rebuild_sinks_of(name)  # they fail, saying their connector is gone
        if self._publisher is not None:
            try:
                await self._publisher.forget_connector(name)
            except UnionhubError as exc:
                log.warning("status not published", connector=name, error=str(exc))

    async def _start(self, managed: Managed) -> None:
        managed.retry_at = None
        try:
            source = self._build(managed)
        except UnionhubError as exc:
            await self._failed(managed.stored.name, managed, f"{type(exc).__name__}: {exc}")
            return
        managed.source = source
        managed.state = ConnectorState.STARTING
        await source.start()

    def _build(self, managed: Managed) -> Source:
        """The source or sink of ``managed``'s stored config (secrets registered first)."""
        raw = managed.stored.config
        if not is_sink(raw):
            config = parse_config(raw, self._resolver)
            for secret in config.secrets():
                masker().add_secret(secret)
            return build_source(config, self._context)
        sink = parse_sink_config(raw)
        over = self._connectors.get(sink.connector)
        if over is None or is_sink(over.stored.config):
            raise ConfigError("connector", f"no source connector named {sink.connector}: no sink")
        upstream = parse_config(over.stored.config, self._resolver)
        for secret in upstream.secrets():
            masker().add_secret(secret)
        managed.channel = str(upstream.channel)
        return build_sink(sink, upstream, self._context)

    async def _failed(self, name: str, managed: Managed, reason: str | None) -> None:
        source = managed.source
        if source is not None:
            managed.carried = self._totals(managed)
            managed.source = None
            await source.stop(self._grace_s)
        managed.failures += 1
        managed.state = ConnectorState.FAILED
        managed.reason = masker().mask(reason or "failed")
        wait = self._backoff.wait_s(managed.failures)
        managed.retry_at = asyncio.get_running_loop().time() + wait
        log.warning("connector failed", connector=name, reason=managed.reason, retry_in_s=wait)
        await self._publish(name, managed)

    async def _stop_source(self, managed: Managed) -> None:
        source = managed.source
        if source is None:
            return
        managed.carried = self._totals(managed)
        managed.source = None
        await source.stop(self._grace_s)

    def _count_errors(self, managed: Managed) -> None:
        # Sources keep only their last error; a new one since the last tick counts once.
        if managed.source is None:
            return
        error = managed.source.health().last_error
        if error is not None and error != managed.last_error_seen:
            managed.upstream_errors += 1
        managed.last_error_seen = error

    def _totals(self, managed: Managed) -> dict[str, int]:
        totals = dict(managed.carried)
        if managed.source is not None:
            health = managed.source.health()
            totals["records"] += health.records_written
            totals["dead_letters"] += health.dead_letters_written
        return totals

    def _status_of(self, name: str, managed: Managed) -> ConnectorStatus:
        health: SourceHealth | None = managed.source.health() if managed.source else None
        totals = self._totals(managed)
        retry_in: float | None = None
        if managed.retry_at is not None:
            retry_in = round(max(0.0, managed.retry_at - asyncio.get_running_loop().time()), 1)
        last_error = health.last_error if health is not None else None
        detail = dict(health.detail) if health is not None else {}
        return ConnectorStatus(
            name=name,
            channel=managed.channel,
            state=managed.state,
            worker_id=self._worker_id,
            reason=managed.reason or (masker().mask(last_error) if last_error else None),
            last_success_at=(
                health.last_success_at.isoformat()
                if health is not None and health.last_success_at
                else None
            ),
            records=totals["records"],
            dead_letters=totals["dead_letters"],
            upstream_errors=managed.upstream_errors,
            restarts=managed.restarts,
            next_retry_in_s=retry_in,
            detail=detail,
            updated_at=now_iso(),
            type="sink" if is_sink(managed.stored.config) else "source",
            last_error=masker().mask(last_error) if last_error else managed.reason,
            lag=detail.get("lag"),
        )

    async def _publish(self, name: str, managed: Managed) -> bool:
        if self._publisher is None:
            return True
        try:
            await self._publisher.connector(self._status_of(name, managed))
        except UnionhubError as exc:
            log.warning("status not published", connector=name, error=str(exc))
            return False
        return True
