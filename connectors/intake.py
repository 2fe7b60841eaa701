"""Exactly-once intake: a poll's records, dead letters and checkpoints in ONE transaction.

This is Kafka Connect's exactly-once source design (KIP-618) on aiokafka: one
transactional producer per connector (its id namespaced), records to
``intake.raw.<channel>``, dead letters to ``intake.dlq`` and the new checkpoint
to the compacted checkpoints topic, all committed together. After a failed or
timed-out transaction the outcome is unknown, so the producer is re-created
(its initialisation fences and resolves the old transaction) and the caller
re-reads its committed checkpoint before going on.

Concurrent callers (legal_stations polls many stations at once) share the
producer through group commit: batches submitted while a transaction is in
flight are committed together in the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import ProducerFenced
from aiokafka.structs import OffsetAndMetadata

from connectors.checkpoints import CHECKPOINT_SCHEMA, checkpoint_value
from connectors.errors import IntakeCommitError, ProducerFencedError
from core.kafka.aiokafka_adapter import fatal_transaction_error
from core.kafka.clients import transactional_producer
from core.kafka.topics import TopicCatalog
from schemas.deadletter import DEADLETTER_SCHEMA, DeadLetter
from schemas.raw import RAW_SCHEMA, RawEnvelope

log = structlog.get_logger(__name__)


@dataclass
class Batch:
    """What one poll step produced: records, dead letters and the checkpoints after them."""

    records: list[RawEnvelope] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A sink's input positions (next offset per partition), committed to the writer's group.
    offsets: dict[TopicPartition, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.records or self.dead_letters or self.checkpoints or self.offsets)


@dataclass
class WriterCounters:
    """Totals of what this writer committed, for health and metrics."""

    transactions: int = 0
    records: int = 0
    dead_letters: int = 0
    failures: int = 0


class IntakeWriter:
    """The transactional writer of one connector."""

    def __init__(
        self,
        bootstrap: str,
        catalog: TopicCatalog,
        transactional_id: str,
        *,
        transaction_timeout_s: float = 30.0,
        group_id: str | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._group_id = group_id  # where a sink's batch offsets are committed
        self._catalog = catalog
        self._transactional_id = transactional_id
        self._timeout_s = transaction_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[tuple[Batch, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        self.counters = WriterCounters()

    @property
    def transactional_id(self) -> str:
        """The transactional id (namespaced) this writer uses."""
        return self._transactional_id

    async def start(self) -> None:
        """Create the producer and wait until it owns the transactional id.

        Initialisation aborts (or completes) any transaction a crashed
        predecessor left open, so checkpoints read afterwards are final.
        """
        await self._ensure_producer()

    async def close(self, timeout_s: float = 3.0) -> None:
        """Let a transaction in flight finish (up to ``timeout_s``), then stop the producer.

        A transaction still open then is aborted by the broker or by the next
        start of this transactional id.
        """
        if self._committer is not None and not self._committer.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._committer), timeout_s)
        await self._discard_producer()

    async def commit(self, batch: Batch) -> None:
        """Commit ``batch`` atomically (possibly with other callers' batches).

        Raises :class:`IntakeCommitError` when the outcome is unknown or the
        transaction was aborted, :class:`ProducerFencedError` when another
        instance took over.
        """
        if not batch:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((batch, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._drain(), name="intake-commit")
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                await self._transact([batch for batch, _ in group])
            except BaseException as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                for _, future in group:
                    if not future.done():
                        future.set_result(None)

    async def _transact(self, batches: list[Batch]) -> None:
        producer = await self._ensure_producer()
        try:
            await asyncio.wait_for(self._send_all(producer, batches), self._timeout_s)
        except Exception as exc:
            if _was_fenced(producer, exc):
                await self._discard_producer()
                raise ProducerFencedError(
                    f"transactional id {self._transactional_id} was taken over"
                ) from None
            self.counters.failures += 1
            log.warning(
                "intake transaction failed",
                transactional_id=self._transactional_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            # Outcome unknown or aborted: a fresh producer resolves it for sure.
            await self._discard_producer()
            raise IntakeCommitError(
                f"transaction of {self._transactional_id} failed: {type(exc).__name__}"
            ) from exc
        self.counters.transactions += 1
        self.counters.records += sum(len(b.records) for b in batches)
        self.counters.dead_letters += sum(len(b.dead_letters) for b in batches)

    async def _send_all(self, producer: AIOKafkaProducer, batches: list[Batch]) -> None:
        await producer.begin_transaction()
        sends: list[asyncio.Future[Any]] = []
        try:
            for topic, key, value, headers in self._messages(batches):
                sends.append(await producer.send(topic, value=value, key=key, headers=headers))
            await asyncio.gather(*sends)
        finally:
            for future in sends:  # a failed transaction leaves outcomes nobody awaits
                future.add_done_callback(_retrieve)
        offsets: dict[TopicPartition, int] = {}
        for batch in batches:
            for tp, offset in batch.offsets.items():
                offsets[tp] = max(offset, offsets.get(tp, 0))
        if offsets:
            if self._group_id is None:
                raise ValueError("a batch with input offsets needs a writer with a group_id")
            await producer.send_offsets_to_transaction(
                {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()},
                self._group_id,
            )
        await producer.commit_transaction()

    def _messages(
        self, batches: list[Batch]
    ) -> list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]:
        """(topic, key, value, headers) of every message of ``batches``, checkpoints last."""
        messages: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = []
        checkpoints: dict[str, dict[str, Any]] = {}
        for batch in batches:
            messages += [
                (
                    self._catalog.raw(record.channel),
                    record.external_id.encode(),
                    record.to_json(),
                    [("schema", RAW_SCHEMA.encode()), ("channel", record.channel.encode())],
                )
                for record in batch.records
            ]
            messages += [
                (
                    self._catalog.intake_dlq,
                    letter.external_id.encode() if letter.external_id else None,
                    letter.to_json(),
                    [
                        ("schema", DEADLETTER_SCHEMA.encode()),
                        ("channel", (letter.channel or "").encode()),
                    ],
                )
                for letter in batch.dead_letters
            ]
            checkpoints.update(batch.checkpoints)  # later batches of a key win
        messages += [
            (
                self._catalog.checkpoints,
                key.encode(),
                checkpoint_value(state),
                [("schema", CHECKPOINT_SCHEMA.encode())],
            )
            for key, state in checkpoints.items()
        ]
        return messages

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        producer = transactional_producer(
            self._bootstrap,
            self._transactional_id,
            transaction_timeout_ms=int(max(self._timeout_s * 2, 10) * 1000),
            request_timeout_ms=int(self._timeout_s * 1000),
        )
        try:
            await producer.start()
            # An empty transaction makes the producer obtain its id and epoch now.
            await asyncio.wait_for(producer.begin_transaction(), self._timeout_s)
            await asyncio.wait_for(producer.abort_transaction(), self._timeout_s)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await producer.stop()
            if isinstance(exc, ProducerFenced):
                raise ProducerFencedError(
                    f"transactional id {self._transactional_id} was taken over"
                ) from None
            if isinstance(exc, Exception):
                raise IntakeCommitError(
                    f"producer {self._transactional_id} could not start: {type(exc).__name__}"
                ) from exc
            raise
        self._producer = producer
        return producer

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 2)


def _was_fenced(producer: AIOKafkaProducer, error: BaseException) -> bool:
    """True when ``error`` means another producer with our transactional id took over.

    aiokafka reports fencing either as ``ProducerFenced`` or, when the sender
    noticed it first, by a fatal transaction state whose waiter holds it (and
    the call in progress fails with ``IllegalOperation``).
    """
    if isinstance(error, ProducerFenced):
        return True
    return isinstance(fatal_transaction_error(producer), ProducerFenced)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as retrieved (it is reported through the commit instead)."""
    if not future.cancelled():
        future.exception()
