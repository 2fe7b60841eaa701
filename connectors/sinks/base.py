"""The reply sink: reads ``cases.state``, tells the worker's channel, commits only what was told.

:class:`ReplySink` has the connector lifecycle (:class:`connectors.base.Source`)
and its own transactional writer (the connector's transactional id) and
consumer group (:meth:`TopicCatalog.sink_group`). For each case state it reads,
it sends the replies the state owes (:func:`connectors.sinks.tasks.reply_tasks`)
that its reply ledger does not hold yet; a channel module fills in
:meth:`ReplySink.deliver` with the source's shared HTTP client, auth or signing
and resolution table. Then ONE transaction commits the dead letters of the
replies the upstream refused for good, the case's ledger entry (checkpoint key
``<sink>/case/<case_id>``: the keys told) and the input offsets.

Exactly once from the upstream's side: nothing is committed before the
upstream acknowledged (or refused) every reply of the record, so a crash
between send and commit re-sends the same keys, which the upstream's
idempotency ledger absorbs; what was committed is never sent again, because
the ledger entry and the offsets commit together. A transient failure that
outlasts the retries commits the replies told so far and re-reads the record
after a pause; the offsets never pass an unacknowledged reply.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from dataclasses import replace

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from connectors.base import Source, SourceContext, SourceHealth
from connectors.checkpoints import read_checkpoints
from connectors.config import ConnectorConfig, SinkConfig
from connectors.errors import (
    TransientUpstreamError,
    UnexpectedResponseError,
    UpstreamRefusedError,
)
from connectors.http import budget_of
from connectors.intake import Batch, IntakeWriter
from connectors.sinks.tasks import ReplyTask, reply_tasks
from connectors.upstream import UpstreamClient
from core.errors import ConfigError, KafkaUnavailableError, UnionhubError
from core.kafka.clients import committed_consumer
from core.kafka.reading import committed_offsets
from core.logging import masker
from schemas.caseloop import CaseState
from schemas.deadletter import DeadLetter, DeadLetterError
from schemas.raw import utc_now

POLL_MS = 500
OFFSETS_EVERY_S = 1.0  # how often progress over records that owed nothing is committed
MAX_ANSWER_CHARS = 300


class ReplySink(Source):
    """Tells one channel's upstream of its reports' resolves and closes, exactly once."""

    config: SinkConfig

    def __init__(self, config: SinkConfig, upstream: ConnectorConfig, context: SourceContext):
        super().__init__(config.model_copy(update={"channel": upstream.channel}), context)
        self.upstream = upstream
        self.channel = upstream.channel
        catalog = context.catalog
        self.writer = IntakeWriter(
            context.bootstrap,
            catalog,
            catalog.connector_transactional_id(config.name),
            transaction_timeout_s=context.transaction_timeout_s,
            group_id=catalog.sink_group(config.name),
        )
        self._topic = catalog.cases_state
        self._partitions = [
            TopicPartition(self._topic, p) for p in range(catalog.partition_count(self._topic))
        ]
        self._consumer: AIOKafkaConsumer | None = None
        self.told: dict[str, set[str]] = {}  # case id -> reply keys acknowledged or refused
        self.positions: dict[TopicPartition, int] = {}  # next offset to handle
        self._committed: dict[TopicPartition, int] = {}
        self._last_offsets_commit = 0.0
        self.replies = 0
        self.refused = 0
        self.lag: int | None = None

    # -- what a channel fills in ---------------------------------------------------------

    def upstream_client(self, upstream: ConnectorConfig) -> UpstreamClient:
        """An HTTP client of ``upstream`` spending the same budget as its source."""
        return UpstreamClient(
            str(upstream.channel),
            timeout_s=self.context.http_timeout_s,
            budget=budget_of(upstream),
        )

    async def open(self) -> None:
        """Acquire the HTTP client (before the first reply)."""

    async def close(self) -> None:
        """Release what :meth:`open` acquired."""

    @abstractmethod
    async def deliver(self, task: ReplyTask) -> None:
        """Send one reply, retried per the shared policy; return once the upstream took it.

        Raises :class:`UpstreamRefusedError` (with the upstream's answer) when it is
        refused for good, :class:`TransientUpstreamError` when retries ran out.
        """

    # -- the loop ---------------------------------------------------------------------------

    def health(self) -> SourceHealth:
        """As :meth:`Source.health`, with replies, refusals and the lag of ``cases.state``."""
        return replace(
            super().health(),
            records_written=self.replies,
            dead_letters_written=self.refused,
            detail={
                "type": "sink",
                "lag": self.lag,
                "transactions": self.writer.counters.transactions,
                "failed": self.writer.counters.failures,
            },
        )

    async def run(self) -> None:
        """Resume from what was committed, then tell the channel until stopped."""
        await self.open()
        try:
            while not self.stopping:
                try:
                    await self._resume()
                    await self._consume()
                except (ConfigError, UnionhubError) as exc:
                    if isinstance(exc, ConfigError) or not exc.retriable:
                        raise
                    self._note_error(exc)
                    await self.sleep(self.context.error_pause_s)
        finally:
            await self._drop_consumer()
            await self.writer.close(timeout_s=min(2.0, self.context.transaction_timeout_s))
            await self.close()

    async def _resume(self) -> None:
        """Fence a predecessor, then load its ledger and offsets: exactly what it committed."""
        await self.writer.start()
        states = await read_checkpoints(
            self.context.bootstrap, self.context.catalog.checkpoints, self.name
        )
        prefix = f"{self.name}/case/"
        self.told = {
            key.removeprefix(prefix): set(state.get("told", []))
            for key, state in states.items()
            if key.startswith(prefix)
        }
        group = self.context.catalog.sink_group(self.name)
        try:
            committed = await committed_offsets(self.context.bootstrap, group)
            await self._drop_consumer()
            consumer = committed_consumer(
                self.context.bootstrap,
                client_id=self.context.catalog.client_id(f"sink.{self.name}"),
            )
            await consumer.start()
            self._consumer = consumer
            consumer.assign(self._partitions)
            for tp in self._partitions:
                if tp in committed:
                    consumer.seek(tp, committed[tp])
                else:
                    await consumer.seek_to_beginning(tp)
                self.positions[tp] = committed.get(tp, 0)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"sink {self.name}: {type(exc).__name__}") from exc
        self._committed = dict(self.positions)
        self._last_success_at = utc_now()

    async def _consume(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        while not self.stopping:
            try:
                fetched = await consumer.getmany(
                    timeout_ms=POLL_MS, max_records=self.config.max_batch
                )
            except KafkaError as exc:
                raise KafkaUnavailableError(f"sink {self.name}: {type(exc).__name__}") from exc
            try:
                for tp, messages in fetched.items():
                    for message in messages:
                        if message.offset >= self.positions.get(tp, 0):
                            await self._handle(tp, message)
                    self.positions[tp] = max(self.positions.get(tp, 0), await consumer.position(tp))
            except TransientUpstreamError as exc:
                self._note_error(exc)
                for tp in self._partitions:  # re-read from the first record not fully told
                    consumer.seek(tp, self.positions.get(tp, 0))
                await self.sleep(self.context.error_pause_s)
                continue
            await self._commit_progress()
            self._update_lag(consumer)
            self._last_success_at = utc_now()
            self._last_error = None

    async def _handle(self, tp: TopicPartition, message: ConsumerRecord[bytes, bytes]) -> None:
        state = self._decode(message)
        owed: list[ReplyTask] = []
        if state is not None:
            told = self.told.setdefault(state.case_id, set())
            owed = [t for t in reply_tasks(state, self.channel) if t.key not in told]
        if state is None or not owed:
            self.positions[tp] = message.offset + 1
            return
        letters: list[DeadLetter] = []
        try:
            for task in owed:
                try:
                    await self.deliver(task)
                    self.replies += 1
                except (UpstreamRefusedError, UnexpectedResponseError) as exc:
                    letters.append(self._dead_letter(task, exc, message))
                told.add(task.key)
        except TransientUpstreamError:
            if letters or any(t.key in told for t in owed):
                # What was told so far is kept; the offset stays before this record.
                await self._commit(state.case_id, letters, tp, message.offset)
            raise
        await self._commit(state.case_id, letters, tp, message.offset + 1)
        self.positions[tp] = message.offset + 1

    async def _commit(
        self, case_id: str, letters: list[DeadLetter], tp: TopicPartition, next_offset: int
    ) -> None:
        """One transaction: ``letters``, the case's ledger entry and the offsets (``tp`` at
        ``next_offset``)."""
        offsets = {**self.positions, tp: next_offset}
        told = sorted(self.told.get(case_id, ()))
        await self.writer.commit(
            Batch(
                dead_letters=letters,
                checkpoints={f"{self.name}/case/{case_id}": {"told": told}},
                offsets=offsets,
            )
        )
        self.refused += len(letters)
        self._committed = offsets

    async def _commit_progress(self) -> None:
        """Commit offsets moved over records that owed nothing (at most every second)."""
        now = utc_now().timestamp()
        moved = any(self.positions.get(tp, 0) > self._committed.get(tp, 0) for tp in self.positions)
        if not moved or now - self._last_offsets_commit < OFFSETS_EVERY_S:
            return
        await self.writer.commit(Batch(offsets=dict(self.positions)))
        self._committed = dict(self.positions)
        self._last_offsets_commit = now

    def _decode(self, message: ConsumerRecord[bytes, bytes]) -> CaseState | None:
        if message.value is None:
            return None  # a merged case's tombstone: the survivor carries its reports
        try:
            return CaseState.model_validate_json(message.value)
        except ValidationError:
            self.log.warning("case state not readable; skipped", offset=message.offset)
            return None

    def _dead_letter(
        self, task: ReplyTask, error: UnionhubError, message: ConsumerRecord[bytes, bytes]
    ) -> DeadLetter:
        answer = error.answer if isinstance(error, UpstreamRefusedError) else str(error)
        raw = {"case_id": task.case_id, "key": task.key, "kind": task.transition.kind}
        return DeadLetter(
            stage="intake",
            channel=self.channel,
            connector=self.name,
            external_id=task.external_id,
            error=DeadLetterError(kind="reply_refused", message=masker().mask(answer)),
            raw=orjson.dumps(raw).decode(),
            source=f"{self._topic}@{message.partition}:{message.offset}",
            at=utc_now(),
        )

    def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        lag = 0
        for tp in self._partitions:
            high = consumer.highwater(tp)
            if high is None:
                return
            lag += max(0, high - self.positions.get(tp, 0))
        self.lag = lag

    def _note_error(self, exc: BaseException) -> None:
        self._last_error = masker().mask(f"{type(exc).__name__}: {exc}")
        self.log.warning("reply sink trouble", error=self._last_error)

    async def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()


def refusal_answer(status: int, body: bytes) -> str:
    """The upstream's answer as a dead letter keeps it: status and the start of the body."""
    text = body.decode("utf-8", errors="replace").strip()
    return f"HTTP {status}: {text[:MAX_ANSWER_CHARS]}"
