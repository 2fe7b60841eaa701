"""A single-node KRaft Apache Kafka broker, fetched from Maven Central and run locally.

``deploy/kafka/pom.xml`` names the broker and its log binding; Maven copies the
jars into ``<cache_dir>/kafka-<version>/libs`` once. The broker's config, data,
pid file and log live in ``<state_dir>/kafka-<port>``. ``up`` is idempotent and
returns once the broker answers metadata requests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from core.errors import KafkaSetupError, KafkaUnavailableError
from core.kafka.clients import metadata_client
from core.kafka.security import ClientSecurity
from core.settings import Settings

_DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy" / "kafka"


@dataclass(frozen=True)
class BrokerStatus:
    """Whether the local broker's process lives and whether it answers."""

    pid: int | None
    answering: bool
    bootstrap: str
    log_file: Path


class LocalBroker:
    """Lifecycle of the project's own local broker (fetch, format, start, stop)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.bootstrap = settings.kafka_bootstrap
        self.port = settings.kafka_port
        self.controller_port = settings.kafka_port + 1
        self.libs_dir = settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"
        self.home = settings.state_dir / f"kafka-{self.port}"
        self.data_dir = self.home / "data"
        self.pid_file = self.home / "broker.pid"
        self.log_file = self.home / "logs" / "server.log"

    # -- fetch -----------------------------------------------------------
    def fetch(self) -> None:
        """Copy the broker jars from Maven Central into the cache, once."""
        if (self.libs_dir / f"kafka_2.13-{self._settings.kafka_version}.jar").exists():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaSetupError(
                "Maven (mvn) is not on PATH: it is needed once to fetch the Kafka broker jars"
            )
        self.libs_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(_DEPLOY_DIR / "pom.xml"),
                f"-Dkafka.version={self._settings.kafka_version}",
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.libs_dir}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise KafkaSetupError("mvn could not fetch the Kafka jars: " + " | ".join(tail))

    # -- configure -------------------------------------------------------
    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise KafkaSetupError("Java is not on PATH: the local Kafka broker needs Java 17+")
        return java

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        host = self._settings.kafka_host
        config = self.home / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{host}:{self.controller_port}",
                    f"listeners=PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{host}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data_dir}",
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    # One node: internal topics cannot have more replicas than brokers.
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.cleaner.backoff.ms=1000",
                    "",
                ]
            )
        )
        return config

    def _java_argv(self, main: str, *args: str) -> list[str]:
        return [
            self._java(),
            f"-Xmx{self._settings.kafka_heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j.configuration=file:{_DEPLOY_DIR / 'log4j.properties'}",
            f"-Dkafka.logs.dir={self.log_file.parent}",
            "-cp",
            f"{self.libs_dir}/*",
            main,
            *args,
        ]

    def _format(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = uuid.uuid4().hex[:22]
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            self._java_argv(
                "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise KafkaSetupError(f"formatting {self.data_dir} failed: {result.stderr.strip()}")

    # -- lifecycle -------------------------------------------------------
    def running_pid(self) -> int | None:
        """The broker's pid if its pid file names a live process."""
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

    def _spawn(self, config: Path) -> None:
        argv = self._java_argv("kafka.Kafka", str(config))
        stdout = str(self.home / "stdout.log")
        # posix_spawn in a new session: the broker outlives this process, and no
        # Popen object is left to be reaped (or warned about) here.
        pid = os.posix_spawn(
            argv[0],
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        self.pid_file.write_text(str(pid))

    async def up(self, timeout_s: float = 60.0) -> bool:
        """Start the broker unless it runs; True when this call started it."""
        if self.running_pid() is not None and await answers(self.bootstrap):
            return False
        self._java()
        await asyncio.to_thread(self.fetch)
        config = self._write_config()
        await asyncio.to_thread(self._format, config)
        if self.running_pid() is None:
            self._spawn(config)
        await self._wait_answering(timeout_s)
        return True

    async def _wait_answering(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.running_pid() is None:
                raise KafkaSetupError(f"the broker exited at start; see {self.log_file}")
            if await answers(self.bootstrap):
                return
            await asyncio.sleep(0.5)  # polling a starting JVM; no event to wait on
        raise KafkaUnavailableError(
            f"the broker did not answer on {self.bootstrap} within {timeout_s:.0f}s; "
            f"see {self.log_file}"
        )

    async def down(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL); True when one was running."""
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

    async def status(self) -> BrokerStatus:
        """Pid and whether the broker answers metadata requests."""
        return BrokerStatus(
            pid=self.running_pid(),
            answering=await answers(self.bootstrap),
            bootstrap=self.bootstrap,
            log_file=self.log_file,
        )


async def answers(
    bootstrap: str, timeout_s: float = 2.0, *, security: ClientSecurity | None = None
) -> bool:
    """True when a broker at ``bootstrap`` answers a metadata request (with ``security``,
    or the process's)."""
    host, _, port = bootstrap.rpartition(":")
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
