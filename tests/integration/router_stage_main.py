"""Test harness of the router runtime: tiny processors, a process entry point, and Kafka probes.

Run as ``python -m tests.integration.router_stage_main --worker NAME`` with
``UNIONHUB_KAFKA_BOOTSTRAP`` and ``UNIONHUB_NAMESPACE`` set: it runs a
:class:`RouterApp` whose stage 1 upper-cases raw records into
``router_normalized`` and whose stage 2 counts records per key into
``alerts`` (state in ``router_state``), until SIGTERM, exactly as
``unionhub router run`` does (same :func:`run_until_signalled`). Every
output carries a ``worker`` header naming the process that committed it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from core.kafka.clients import (
    admin_client,
    committed_consumer,
    configure_clients,
    idempotent_producer,
)
from core.kafka.reading import committed_offsets
from core.kafka.topics import TopicCatalog
from core.logging import configure_logging
from core.settings import Settings
from router.app import RouterApp
from router.processor import InputRecord, Output
from tests.kafka_helpers import eventually
from unionhub.cli.router import run_until_signalled

REPO_ROOT = Path(__file__).resolve().parents[2]
_SPAWNED: list[subprocess.Popen[bytes]] = []
BOOM = b"boom"  # a value both test processors raise on
HUGE = b"huge"  # a value the upper-casing processor turns into an output too big for Kafka
LEAKY_PHONE = "13800138000"  # put into the exception text, must never reach a dead letter


class UppercaseProcessor:
    """Stateless: each record's value upper-cased to ``target`` with the same key.

    Raises (with a phone number in the message) on the value ``BOOM``, and
    outputs 4 MiB, more than a Kafka request may hold, for ``HUGE``.
    """

    def __init__(self, target: str, worker: str = "") -> None:
        self._target = target
        self._worker = worker.encode()

    def process(self, record: InputRecord) -> list[Output]:
        """One upper-cased copy of ``record``."""
        if record.value == BOOM:
            raise ValueError(f"cannot handle the report of {LEAKY_PHONE}")
        value = (record.value or b"").upper()
        if record.value == HUGE:
            value = value * (1024 * 1024)
        return [Output(self._target, record.key, value, (("worker", self._worker),))]


class CountingProcessor:
    """Stateful: counts records per key; outputs the new count to ``target``.

    The state is ``key -> count`` and each change is a changelog write. On the
    value ``BOOM`` it bumps the key's count and then raises, so a runtime that
    did not roll the state back would count one too many afterwards.
    """

    def __init__(self, target: str, worker: str = "") -> None:
        self._target = target
        self._worker = worker.encode()
        self.counts: dict[bytes, int] = {}
        self._changes: dict[bytes, bytes | None] = {}

    def process(self, record: InputRecord) -> list[Output]:
        """The key's new count."""
        key = record.key or b""
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        self._changes[key] = str(count).encode()
        if record.value == BOOM:
            raise RuntimeError(f"cannot handle the report of {LEAKY_PHONE}")
        return [Output(self._target, key, str(count).encode(), (("worker", self._worker),))]

    def restore(self, key: bytes, value: bytes | None) -> None:
        """Apply one changelog record."""
        if value is None:
            self.counts.pop(key, None)
        else:
            self.counts[key] = int(value)

    def take_changes(self) -> list[tuple[bytes, bytes | None]]:
        """Changes since the last call."""
        changes = list(self._changes.items())
        self._changes.clear()
        return changes

    def discard_changes(self) -> None:
        """Forget uncommitted changes (the runtime replays the changelog next)."""
        self._changes.clear()

    def reset(self) -> None:
        """Drop all state."""
        self.counts.clear()
        self._changes.clear()


def expected_counts(keys: Iterable[bytes | None]) -> list[tuple[bytes, bytes]]:
    """What one uninterrupted counting run outputs for ``keys`` in this order."""
    counter = CountingProcessor("unused")
    outputs: list[tuple[bytes, bytes]] = []
    for offset, key in enumerate(keys):
        record = InputRecord("in", 0, offset, key, b"x", (), 0)
        outputs += [(o.key or b"", o.value) for o in counter.process(record)]
    return outputs


def harness_app(settings: Settings, worker: str) -> RouterApp:
    """A RouterApp running the two test processors instead of the real stages."""
    topics = TopicCatalog(settings.namespace)
    return RouterApp(
        settings,
        normalize=lambda s: UppercaseProcessor(topics.router_normalized, worker),
        dispatch=lambda s: CountingProcessor(topics.alerts, worker),
        client_id=f"{settings.namespace}{worker}",
    )


# --- processes ---------------------------------------------------------------------------


def spawn_worker(settings: Settings, worker: str, log_dir: Path) -> subprocess.Popen[bytes]:
    """Start this module as a test router process named ``worker``; its log goes to ``log_dir``."""
    argv = ["tests.integration.router_stage_main", "--worker", worker]
    return spawn_module(settings, argv, log_dir / f"{worker}.log")


def spawn_module(
    settings: Settings, argv: list[str], log_path: Path, session_timeout_ms: int = 6000
) -> subprocess.Popen[bytes]:
    """``python -m <argv>`` with ``settings``' broker and namespace in its environment.

    The session timeout defaults to the broker's minimum, for fast failover.
    """
    env = dict(os.environ)
    env.update(
        UNIONHUB_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        UNIONHUB_NAMESPACE=settings.namespace,
        UNIONHUB_STATE_DIR=str(settings.state_dir),  # the dispatch stage's local store
        UNIONHUB_ROUTER_SESSION_TIMEOUT_MS=str(session_timeout_ms),
        UNIONHUB_LOG_FORMAT="json",
        UNIONHUB_LOG_LEVEL="info",
    )
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
    _SPAWNED.append(process)
    return process


def reap_spawned() -> None:
    """SIGKILL every process spawned here that still runs (a test's teardown safety net)."""
    while _SPAWNED:
        process = _SPAWNED.pop()
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(timeout=30)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` and reap it."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def stop_gently(process: subprocess.Popen[bytes], grace_s: float = 15) -> int:
    """SIGTERM ``process`` and return its exit code; SIGKILL it and raise if it takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        raise


# --- Kafka probes ------------------------------------------------------------------------


async def partitions_of(bootstrap: str, *topics: str) -> list[TopicPartition]:
    """Every partition of ``topics``, once the broker's metadata knows them all."""
    found: list[TopicPartition] = []

    async def known() -> bool:
        nonlocal found
        async with admin_client(bootstrap) as admin:
            described = await admin.describe_topics(list(topics))
        found = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
        return all(t.get("partitions") and not t.get("error_code") for t in described)

    await eventually(known, timeout_s=30)
    return found


class Tail:
    """Collects every committed record of some topics, from the beginning, in the background."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self.records: list[Any] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Tail:
        tps = await partitions_of(self._bootstrap, *self._topics)
        self._consumer = committed_consumer(self._bootstrap)
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                self.records += messages

    def count(self) -> int:
        """Records seen so far."""
        return len(self.records)

    def at_least(self, count: int) -> Callable[[], Awaitable[bool]]:
        """A condition for ``eventually``: at least ``count`` records seen."""

        async def reached() -> bool:
            return len(self.records) >= count

        reached.__name__ = f"at_least_{count}_records"
        return reached


async def end_offsets(bootstrap: str, *topics: str) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics``, now."""
    tps = await partitions_of(bootstrap, *topics)
    consumer = committed_consumer(bootstrap)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


async def wait_committed(bootstrap: str, group_id: str, targets: dict[TopicPartition, int]) -> None:
    """Wait until ``group_id`` has committed at least ``targets`` (all input processed)."""

    async def reached() -> bool:
        committed = await committed_offsets(bootstrap, group_id)
        return all(committed.get(tp, 0) >= end for tp, end in targets.items())

    await eventually(reached, timeout_s=60)


async def group_state(bootstrap: str, group_id: str) -> tuple[str, int]:
    """The group's state (``Stable``, ``Empty``...) and its number of members."""
    try:
        async with admin_client(bootstrap) as admin:
            responses = await admin.describe_consumer_groups([group_id])
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return "Unknown", 0  # no coordinator for the group (yet)
    for response in responses:
        for group in response.groups:
            if group[1] == group_id:
                return str(group[2]), len(group[5])
    return "Dead", 0


async def produce(bootstrap: str, records: Iterable[tuple[str, bytes | None, bytes]]) -> None:
    """Write ``(topic, key, value)`` records with an idempotent producer."""
    producer = idempotent_producer(bootstrap)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


# --- entry point -------------------------------------------------------------------------


def main() -> int:
    """Run the test router until SIGTERM; the exit code of ``unionhub router run``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", required=True)
    args = parser.parse_args()
    settings = Settings()
    configure_logging(settings)
    configure_clients(settings, os.environ)
    return asyncio.run(run_until_signalled(harness_app(settings, args.worker)))


if __name__ == "__main__":
    sys.exit(main())
