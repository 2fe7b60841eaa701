"""The daemon's status topic: the last known state of each connector and of each daemon.

Like Kafka Connect's status topic (compacted, one partition), keyed
``status-<connector>`` and ``worker-<instance>``. Daemons publish; the admin
API, ``unionhub status`` and other daemons read it to the end.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from core.errors import KafkaUnavailableError
from core.kafka.clients import committed_consumer, idempotent_producer
from core.kafka.reading import fetch_to_end

CONNECTOR_STATUS_SCHEMA = "unionhub.connector-status/1"
WORKER_STATUS_SCHEMA = "unionhub.worker-status/1"
_CONNECTOR_PREFIX = "status-"
_WORKER_PREFIX = "worker-"


class ConnectorState(StrEnum):
    """What a daemon reports a connector is doing."""

    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class ConnectorStatus:
    """One connector's status as its daemon last reported it (no secrets, no PII)."""

    name: str
    channel: str
    state: ConnectorState
    worker_id: str
    reason: str | None = None
    last_success_at: str | None = None
    records: int = 0
    dead_letters: int = 0
    upstream_errors: int = 0
    restarts: int = 0
    next_retry_in_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    updated_at: str = ""

    def encode(self) -> bytes:
        """The record value."""
        body = {"schema": CONNECTOR_STATUS_SCHEMA, **asdict(self)}
        return orjson.dumps(body, default=str)

    @classmethod
    def decode(cls, value: bytes) -> ConnectorStatus | None:
        """The status in ``value``; None if it is not a connector status record."""
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict) or body.pop("schema", None) != CONNECTOR_STATUS_SCHEMA:
            return None
        try:
            body["state"] = ConnectorState(body["state"])
            return cls(**body)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class WorkerStatus:
    """A daemon's own status: its router's readiness, lag and state size."""

    worker_id: str
    ready: bool
    router_lag: int | None
    router_state_size: int | None
    connectors: list[str]
    updated_at: str
    stage_lag: dict[str, int | None] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The record value."""
        return orjson.dumps({"schema": WORKER_STATUS_SCHEMA, **asdict(self)})

    @classmethod
    def decode(cls, value: bytes) -> WorkerStatus | None:
        """The status in ``value``; None if it is not a worker status record."""
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict) or body.pop("schema", None) != WORKER_STATUS_SCHEMA:
            return None
        try:
            return cls(**body)
        except TypeError:
            return None


@dataclass
class StatusSnapshot:
    """Everything the status topic says now."""

    connectors: dict[str, ConnectorStatus] = field(default_factory=dict)
    workers: dict[str, WorkerStatus] = field(default_factory=dict)


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat()


# Daemons republish every status each second (their own every few seconds); one older
# than this is from a daemon that is gone and says nothing about what runs now.
STATUS_STALE_AFTER_S = 30.0


def is_fresh(updated_at: str) -> bool:
    """True when a status written at ``updated_at`` is recent enough to trust."""
    try:
        updated = datetime.fromisoformat(updated_at)
    except ValueError:
        return False
    return (datetime.now(UTC) - updated).total_seconds() < STATUS_STALE_AFTER_S


def connector_key(name: str) -> bytes:
    """Record key of a connector's status."""
    return f"{_CONNECTOR_PREFIX}{name}".encode()


def worker_key(worker_id: str) -> bytes:
    """Record key of a daemon's status."""
    return f"{_WORKER_PREFIX}{worker_id}".encode()


async def read_statuses(bootstrap: str, topic: str) -> StatusSnapshot:
    """Fold the status topic, read to its current end (read_committed, no group)."""
    tp = TopicPartition(topic, 0)
    consumer = committed_consumer(bootstrap)
    snapshot = StatusSnapshot()
    try:
        await consumer.start()
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        async for batch in fetch_to_end(consumer, await consumer.end_offsets([tp]), timeout_ms=100):
            for record in batch:
                _fold(snapshot, record.key or b"", record.value)
    except KafkaError as exc:
        raise KafkaUnavailableError(f"reading {topic} failed: {type(exc).__name__}") from exc
    finally:
        await consumer.stop()
    return snapshot


def _fold(snapshot: StatusSnapshot, key: bytes, value: bytes | None) -> None:
    text = key.decode("utf-8", errors="replace")
    if text.startswith(_CONNECTOR_PREFIX):
        name = text.removeprefix(_CONNECTOR_PREFIX)
        status = ConnectorStatus.decode(value) if value is not None else None
        if status is None:
            snapshot.connectors.pop(name, None)
        else:
            snapshot.connectors[name] = status
    elif text.startswith(_WORKER_PREFIX):
        worker = text.removeprefix(_WORKER_PREFIX)
        decoded = WorkerStatus.decode(value) if value is not None else None
        if decoded is None:
            snapshot.workers.pop(worker, None)
        else:
            snapshot.workers[worker] = decoded


class StatusPublisher:
    """Writes status records (idempotent, not transactional: each record stands alone)."""

    def __init__(
        self, bootstrap: str, topic: str, client_id: str, send_timeout_s: float = 5.0
    ) -> None:
        self._send_timeout_s = send_timeout_s
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect to the broker."""
        producer = idempotent_producer(self._bootstrap, client_id=self._client_id)
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            raise KafkaUnavailableError(f"status publisher: {type(exc).__name__}") from exc
        self._producer = producer

    async def stop(self) -> None:
        """Flush and close."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def connector(self, status: ConnectorStatus) -> None:
        """Publish one connector's status."""
        await self._send(connector_key(status.name), status.encode())

    async def forget_connector(self, name: str) -> None:
        """Tombstone a removed connector's status."""
        await self._send(connector_key(name), None)

    async def forget_worker(self, worker_id: str) -> None:
        """Tombstone a daemon's status (it is stopping)."""
        await self._send(worker_key(worker_id), None)

    async def worker(self, status: WorkerStatus) -> None:
        """Publish this daemon's status."""
        await self._send(worker_key(status.worker_id), status.encode())

    async def _send(self, key: bytes, value: bytes | None) -> None:
        if self._producer is None:
            raise KafkaUnavailableError("status publisher is not started")
        try:
            # Bounded: a status is advisory, and a broker outage must not hold up the
            # daemon's supervision (or its shutdown) for a producer's full timeout.
            await asyncio.wait_for(
                self._producer.send_and_wait(self._topic, value=value, key=key, partition=0),
                timeout=self._send_timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            raise KafkaUnavailableError(
                f"writing {self._topic} failed: {type(exc).__name__}"
            ) from exc
