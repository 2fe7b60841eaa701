"""The project's own KRaft Apache Kafka, fetched from Maven Central and run locally.

``deploy/kafka/pom.xml`` names the broker and its log binding; Maven copies the
jars into ``<cache_dir>/kafka-<version>/libs`` once. :class:`KafkaNode` is one
Kafka process (config, storage format, spawn, stop, SIGKILL) in a directory of
its own; :class:`LocalBroker` is the single plain node of ``make run`` and the
tests, whose config, data, pid file and log live in ``<state_dir>/kafka-<port>``.
The secured and the three-node clusters are ``devtools/kafka_cluster.py``.
``up`` is idempotent and returns once the broker answers metadata requests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import KafkaSetupError, KafkaUnavailableError
from core.kafka.clients import metadata_client
from core.kafka.security import PLAINTEXT, ClientSecurity
from core.settings import Settings

_DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy" / "kafka"


@dataclass(frozen=True)
class BrokerStatus:
    """Whether the local broker's process lives and whether it answers."""

    pid: int | None
    answering: bool
    bootstrap: str
    log_file: Path


def libs_dir(settings: Settings) -> Path:
    """Where the broker jars of ``settings.kafka_version`` are cached."""
    return settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"


def fetch_jars(settings: Settings) -> None:
    """Copy the broker jars from Maven Central into the cache, once."""
    libs = libs_dir(settings)
    if (libs / f"kafka_2.13-{settings.kafka_version}.jar").exists():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaSetupError(
            "Maven (mvn) is not on PATH: it is needed once to fetch the Kafka broker jars"
        )
    libs.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(_DEPLOY_DIR / "pom.xml"),
            f"-Dkafka.version={settings.kafka_version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise KafkaSetupError("mvn could not fetch the Kafka jars: " + " | ".join(tail))


def java() -> str:
    """The ``java`` executable; :class:`KafkaSetupError` when there is none."""
    found = shutil.which("java")
    if found is None:
        raise KafkaSetupError("Java is not on PATH: the local Kafka broker needs Java 17+")
    return found


class KafkaNode:
    """One Kafka process in ``home``: ``server.properties``, ``data/``, ``logs/``, a pid file."""

    def __init__(self, settings: Settings, home: Path, node_id: int = 1) -> None:
        self._settings = settings
        self.node_id = node_id
        self.home = home
        self.config = home / "server.properties"
        self.data_dir = home / "data"
        self.pid_file = home / "broker.pid"
        self.log_file = home / "logs" / "server.log"
        self.stdout = home / "stdout.log"

    def write_config(self, properties: Mapping[str, str]) -> None:
        """Write ``server.properties`` (``log.dirs`` is this node's data directory)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={v}" for k, v in {**properties, "log.dirs": str(self.data_dir)}.items()]
        self.config.write_text("\n".join([*lines, ""]))

    def java_argv(self, main: str, *args: str) -> list[str]:
        """``java ... main args`` with the broker jars, log4j config and heap."""
        return [
            java(),
            f"-Xmx{self._settings.kafka_heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j.configuration=file:{_DEPLOY_DIR / 'log4j.properties'}",
            f"-Dkafka.logs.dir={self.log_file.parent}",
            "-cp",
            f"{libs_dir(self._settings)}/*",
            main,
            *args,
        ]

    def format(self, cluster_id: str, extra: Sequence[str] = ()) -> None:
        """Format the storage once (``extra``: e.g. ``--add-scram`` credentials)."""
        if (self.data_dir / "meta.properties").exists():
            return
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            self.java_argv(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.config),
                *extra,
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise KafkaSetupError(f"formatting {self.data_dir} failed: {result.stderr.strip()}")

    def running_pid(self) -> int | None:
        """The node's pid if its pid file names a live process."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it if it exited
        except ChildProcessError:
            reaped = 0  # not our child (started by another unionhub process)
        if reaped == pid:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def spawn(self) -> None:
        """Start the node unless it runs (in a new session: it outlives this process)."""
        if self.running_pid() is not None:
            return
        argv = self.java_argv("kafka.Kafka", str(self.config))
        # posix_spawn: no Popen object is left to be reaped (or warned about) here.
        pid = os.posix_spawn(
            argv[0],
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (
                    os.POSIX_SPAWN_OPEN,
                    1,
                    str(self.stdout),
                    os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o644,
                ),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        self.pid_file.write_text(str(pid))

    async def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM (then SIGKILL after ``timeout_s``); True when the node was running."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        for _ in range(int(timeout_s / 0.2)):  # another process's exit has no event to await
            if self.running_pid() is None:
                break
            await asyncio.sleep(0.2)
        if self.running_pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    async def kill(self) -> bool:
        """SIGKILL: the node dies at once, as a crashed machine would; True if it ran."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        for _ in range(150):  # the kernel reaps it within moments; no event to await
            if self.running_pid() is None:
                break
            await asyncio.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def logs(self) -> list[Path]:
        """The node's own log files (log4j's, rotated ones too, and its stdout), not its data."""
        found = sorted(p for p in self.log_file.parent.iterdir() if p.is_file())
        return [*found, *([self.stdout] if self.stdout.exists() else [])]


async def wait_answering(
    node: KafkaNode, bootstrap: str, security: ClientSecurity, timeout_s: float
) -> None:
    """Return once ``node`` answers metadata requests on ``bootstrap``; raise if it exits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if node.running_pid() is None:
            raise KafkaSetupError(f"the broker exited at start; see {node.log_file}")
        if await answers(bootstrap, security=security):
            return
        await asyncio.sleep(0.5)  # polling a starting JVM; no event to wait on
    raise KafkaUnavailableError(
        f"the broker did not answer on {bootstrap} within {timeout_s:.0f}s; see {node.log_file}"
    )


class LocalBroker:
    """Lifecycle of the project's own single plain broker (fetch, format, start, stop)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.bootstrap = settings.kafka_bootstrap
        self.port = settings.kafka_port
        self.controller_port = settings.kafka_port + 1
        self.node = KafkaNode(settings, settings.state_dir / f"kafka-{self.port}")
        self.home = self.node.home
        self.log_file = self.node.log_file

    def _properties(self) -> dict[str, str]:
        host = self._settings.kafka_host
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            **single_node_properties(),
        }

    def running_pid(self) -> int | None:
        """The broker's pid if its pid file names a live process."""
        return self.node.running_pid()

    async def up(self, timeout_s: float = 60.0) -> bool:
        """Start the broker unless it runs; True when this call started it."""
        if self.running_pid() is not None and await answers(self.bootstrap, security=PLAINTEXT):
            return False
        java()
        await asyncio.to_thread(fetch_jars, self._settings)
        self.node.write_config(self._properties())
        await asyncio.to_thread(self.node.format, uuid.uuid4().hex[:22])
        self.node.spawn()
        await wait_answering(self.node, self.bootstrap, PLAINTEXT, timeout_s)
        return True

    async def down(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL); True when one was running."""
        return await self.node.stop(timeout_s)

    async def status(self) -> BrokerStatus:
        """Pid and whether the broker answers metadata requests."""
        return BrokerStatus(
            pid=self.running_pid(),
            answering=await answers(self.bootstrap, security=PLAINTEXT),
            bootstrap=self.bootstrap,
            log_file=self.log_file,
        )

    def logs(self) -> list[Path]:
        """The broker's own log files."""
        return self.node.logs()


def single_node_properties() -> dict[str, str]:
    """What every node of ours sets: one node's replication, no auto-created topics."""
    return {
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        # One node: internal topics cannot have more replicas than brokers.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.cleaner.backoff.ms": "1000",
    }


async def answers(
    bootstrap: str, timeout_s: float = 2.0, *, security: ClientSecurity | None = None
) -> bool:
    """True when a broker at ``bootstrap`` answers a metadata request (with ``security``,
    or the process's)."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    try:
        # A plain connect first, so a broker that is not there yet logs no aiokafka errors.
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    client = metadata_client(bootstrap, timeout_s, security=security)
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False
    else:
        return True
    finally:
        await client.close()
