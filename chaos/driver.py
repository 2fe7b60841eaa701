"""The seeded driver: executes a :class:`~chaos.plan.Plan` while data flows.

Kills and broker restarts never overlap (one lock): a daemon killed while the
broker is down would only test the daemon's start-up, not its recovery. A
watchdog restarts a daemon that exits on its own and counts it (it should
never happen: the daemon must ride out a broker restart).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from chaos.brokers import BrokerLoss, kill_busiest_leader, restart
from chaos.connectors import tuned_configs, with_secret_files
from chaos.daemon import AdminApi, DaemonProcess
from chaos.plan import POLL_S, Plan, StormWindow
from core.kafka.topics import TopicCatalog
from devtools.broker import LocalBroker, answers
from devtools.kafka_cluster import LocalCluster
from devtools.polling import poll_until
from simulators import Simulators
from simulators.servers.legal_stations import DOWN_MODES

log = structlog.get_logger(__name__)

START_ATTEMPTS = 5
START_TIMEOUT_S = 180.0  # a daemon starting on a busy 2-core box, or a broker coming back
SECRET_FAIL_TIMEOUT_S = 60.0  # the citizen connector notices the rotated secret within this
STORM_BITE_TIMEOUT_S = 120.0  # a storm lasts past its window until it has hit a request
ROTATED_KEY = "citizen_client_secret"
LEADER_DOWN_SHARE = 0.05  # how long a killed broker stays down, as a share of the window
CITIZEN = "citizen_app"


@dataclass
class Tally:
    """What the driver did."""

    kills: int = 0
    broker_restarts: int = 0
    storms: Counter[str] = field(default_factory=Counter)  # "<channel>.<kind>" -> windows
    stations_forced_down: int = 0
    secret_rotations: int = 0
    connector_failed_on_old_secret: bool = False
    secret_fixed_by_admin: bool = False
    daemon_exits: int = 0  # exits nobody caused
    sink_kills: int = 0  # SIGKILLs while a reply was taken upstream and its answer held
    broker_losses: list[BrokerLoss] = field(default_factory=list)  # leader SIGKILLs, restarted
    # Wall-time windows in which the router could not run: from a kill (of the daemon, the
    # broker, a leader) until the daemon answered /readyz again.
    downtime: list[tuple[datetime, datetime]] = field(default_factory=list)


class Driver:
    """Runs the plan against the daemon, the broker and the simulators."""

    def __init__(
        self,
        plan: Plan,
        sims: Simulators,
        daemon: DaemonProcess,
        admin: AdminApi,
        broker: LocalBroker | LocalCluster,
        secrets_dir: Path,
        catalog: TopicCatalog | None = None,
    ) -> None:
        self._plan = plan
        self._sims = sims
        self._daemon = daemon
        self._admin = admin
        self._broker = broker
        self._secrets_dir = secrets_dir
        self._catalog = catalog or TopicCatalog()
        self._exclusive = asyncio.Lock()  # a kill and a broker restart never overlap
        self._start = 0.0
        self.tally = Tally()
        self.connectors: list[str] = []  # names registered by :meth:`run`
        self.sinks: dict[str, str] = {}  # channel -> reply sink registered by :meth:`run`
        self._last_seen_running = datetime.now(UTC)  # by the watchdog

    async def start_daemon(self) -> None:
        """Start an incarnation and wait until it answers ``/healthz``.

        One that exits while starting is counted as an exit nobody caused and
        replaced (a few times at most), rather than waited on until the timeout.
        """
        for _ in range(START_ATTEMPTS):
            self._daemon.start()

            async def up_or_gone() -> bool:
                return not self._daemon.running or await self._admin.healthy()

            await poll_until(
                up_or_gone,
                what="the daemon answers /healthz",
                timeout_s=START_TIMEOUT_S,
                every_s=POLL_S,
            )
            if self._daemon.running:
                return
            self.tally.daemon_exits += 1
            log.warning("chaos: the daemon exited while starting", code=self._daemon.exit_code())
        raise RuntimeError(f"the daemon exited at each of {START_ATTEMPTS} starts")

    async def register_connectors(self) -> list[str]:
        """Store every channel's connector config through the admin API; their names."""
        names = []
        for config in tuned_configs(self._sims).values():
            name = str(config["name"])
            stored = with_secret_files(config, self._secrets_dir)
            await self._put(name, stored)
            names.append(name)
        return names

    async def register_sinks(self) -> dict[str, str]:
        """Store a reply sink per channel that takes replies (after its source); channel -> name."""
        sinks = {}
        for channel, config in self._sims.sink_configs.items():
            name = str(config["name"])
            await self._put(name, dict(config))
            sinks[channel] = name
        return sinks

    async def _put(self, name: str, config: dict[str, Any]) -> None:
        async def stored() -> bool:
            return await self._admin.put_config(name, config)

        await poll_until(
            stored, what=f"the admin API stores {name}", timeout_s=START_TIMEOUT_S, every_s=POLL_S
        )

    async def run(self) -> Tally:
        """Register the connectors, execute every step of the plan; return when all are done.

        The steps start first, so a storm due at 0 s already blows when the
        connectors make their first requests (the backlog's downloads).
        """
        self._start = asyncio.get_running_loop().time()
        stop_watch = asyncio.Event()
        watchdog = asyncio.create_task(self._watch(stop_watch))
        steps = [
            asyncio.create_task(step)
            for step in (
                self._kills(),
                *(self._broker_restart(at) for at in self._plan.broker_restarts),
                *(self._storm(window) for window in self._plan.storms),
                *(self._storm(window) for window in self._plan.reply_storms),
                self._sink_kill(self._plan.sink_kill),
                self._stations_down(self._plan.stations_down),
                self._rotate_secret(self._plan.secret_rotation_at_s),
                self._leader_kills(),
            )
        ]
        try:
            await asyncio.sleep(0)  # let the steps due at once begin before any connector
            self.connectors = await self.register_connectors()
            self.sinks = await self.register_sinks()
            await asyncio.gather(*steps)
        finally:
            for step in steps:
                step.cancel()
            await asyncio.gather(*steps, return_exceptions=True)
            stop_watch.set()
            await watchdog
        return self.tally

    async def _at(self, at_s: float) -> None:
        """Wait for a moment of the schedule (a schedule, not a synchronisation)."""
        delay = self._start + at_s - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    @asynccontextmanager
    async def _outage(self, since: datetime | None = None) -> AsyncIterator[None]:
        """Count the block, from ``since`` (default now) until the daemon answers ``/readyz``
        after it, as a window in which the router could not run (the loop's judge excuses an
        SLA level reached in one for being raised late)."""
        start = since or datetime.now(UTC)
        yield
        await poll_until(
            self._admin.ready,
            what="the daemon answers /readyz",
            timeout_s=START_TIMEOUT_S,
            every_s=POLL_S,
        )
        self.tally.downtime.append((start, datetime.now(UTC)))

    async def _kills(self) -> None:
        for at_s in self._plan.kills:
            await self._at(at_s)
            async with self._exclusive:
                if not self._daemon.running:
                    continue  # the watchdog restarts it
                async with self._outage():
                    await self._daemon.kill()
                    self.tally.kills += 1
                    log.info("chaos: daemon killed", kills=self.tally.kills)
                    await self.start_daemon()

    async def _broker_restart(self, at_s: float) -> None:
        await self._at(at_s)
        async with self._exclusive:
            log.info("chaos: stopping the broker")
            async with self._outage():
                await self._broker.down()
                if await answers(self._broker.bootstrap):
                    raise RuntimeError(
                        f"a broker still answers on {self._broker.bootstrap} once ours stopped"
                    )
                await self._broker.up(timeout_s=START_TIMEOUT_S)
            self.tally.broker_restarts += 1
            log.info("chaos: broker back")

    async def _leader_kills(self) -> None:
        """SIGKILL the busiest partition's leader broker, let the cluster run without it
        for a while, start it again; as often as the plan says. Daemon kills go on
        meanwhile: a daemon may start while a broker is gone."""
        cluster = self._broker
        for at_s in self._plan.leader_kills:
            await self._at(at_s)
            if not isinstance(cluster, LocalCluster):
                raise TypeError("leader kills need the three-node cluster (--brokers 3)")
            async with self._outage():
                loss = await kill_busiest_leader(cluster, self._catalog, START_TIMEOUT_S)
                self.tally.broker_losses.append(loss)
                await asyncio.sleep(LEADER_DOWN_SHARE * self._plan.duration_s)  # a schedule
                await restart(cluster, self._catalog, loss.node_id, START_TIMEOUT_S)

    async def _storm(self, window: StormWindow) -> None:
        await self._at(window.at_s)
        self._sims.storm(window.channel, window.kind, window.rate)
        self.tally.storms[f"{window.channel}.{window.kind}"] += 1
        await asyncio.sleep(window.for_s)  # how long the storm lasts: part of the schedule
        fault = f"{window.channel}.storm_{window.kind}"

        async def bitten() -> bool:
            return self._sims.fault_counts().get(fault, 0) > 0

        try:  # a storm that has not hit a single request yet lasts until it has
            await poll_until(
                bitten,
                what=f"the {fault} storm hits a request",
                timeout_s=STORM_BITE_TIMEOUT_S,
                every_s=POLL_S,
            )
        except TimeoutError:
            log.warning("chaos: a storm hit no request", storm=fault)
        self._sims.end_storm(window.channel, window.kind)

    async def _sink_kill(self, window: StormWindow | None) -> None:
        """Kill the daemon while a reply is taken upstream and its answer held: the sink's
        crash between send and commit. The next incarnation sends the same key again."""
        if window is None:
            return
        await self._at(window.at_s)
        before = len(self._sims.replies(window.channel))
        self._sims.storm(window.channel, window.kind, window.rate)
        self.tally.storms[f"{window.channel}.{window.kind}"] += 1

        async def taken() -> bool:
            return len(self._sims.replies(window.channel)) > before

        try:
            await poll_until(
                taken,
                what=f"a {window.channel} reply taken with its answer held",
                timeout_s=STORM_BITE_TIMEOUT_S,
                every_s=POLL_S / 5,
            )
        except TimeoutError:
            log.warning("chaos: no reply was sent to kill the sink on", channel=window.channel)
            self._sims.end_storm(window.channel, window.kind)
            return
        async with self._exclusive:
            if not self._daemon.running:  # it exited on its own: the watchdog's to restart
                self._sims.end_storm(window.channel, window.kind)
                return
            async with self._outage():
                await self._daemon.kill()
                self.tally.sink_kills += 1  # beside the plan's kills
                log.info("chaos: daemon killed between a reply's send and its commit")
                self._sims.end_storm(window.channel, window.kind)
                await self.start_daemon()

    async def _stations_down(self, window: StormWindow) -> None:
        await self._at(window.at_s)
        stations = sorted(s.station_id for s in self._sims.scenario.stations)
        rng = random.Random(f"chaos-stations-{self._plan.duration_s}-{len(stations)}")  # noqa: S311 - a seeded schedule
        down = rng.sample(stations, round(len(stations) * window.rate))
        for i, station in enumerate(down):
            self._sims.set_station_down(station, DOWN_MODES[i % len(DOWN_MODES)])
        self.tally.stations_forced_down += len(down)
        await asyncio.sleep(window.for_s)  # the outage's length: part of the schedule
        for station in down:
            self._sims.clear_station_override(station)

    async def _rotate_secret(self, at_s: float) -> None:
        """Rotate the citizen_app secret upstream; once the connector fails, PUT the new one."""
        await self._at(at_s)
        self._sims.rotate_secret(ROTATED_KEY)
        self.tally.secret_rotations += 1
        config = tuned_configs(self._sims)[CITIZEN]
        name = str(config["name"])

        async def failed() -> bool:
            return await self._admin.state(name) == "FAILED"

        try:
            await poll_until(
                failed,
                what=f"{name} fails on the old secret",
                timeout_s=SECRET_FAIL_TIMEOUT_S,
                every_s=POLL_S,
            )
            self.tally.connector_failed_on_old_secret = True
        except TimeoutError:
            log.warning("chaos: connector never showed FAILED after the rotation", connector=name)
        tag = f".rotated{self.tally.secret_rotations}"
        await self._put(name, with_secret_files(config, self._secrets_dir, tag))

        async def running() -> bool:
            return await self._admin.state(name) == "RUNNING"

        await poll_until(
            running,
            what=f"{name} runs with the new secret",
            timeout_s=START_TIMEOUT_S,
            every_s=POLL_S,
        )
        self.tally.secret_fixed_by_admin = True

    async def _watch(self, stop: asyncio.Event) -> None:
        """Restart a daemon that exited on its own (counted), until ``stop``."""
        while not stop.is_set():
            async with self._exclusive:
                if not self._daemon.running:
                    self.tally.daemon_exits += 1
                    log.warning("chaos: the daemon exited", code=self._daemon.exit_code())
                    async with self._outage(since=self._last_seen_running):
                        await self.start_daemon()
                self._last_seen_running = datetime.now(UTC)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                continue
