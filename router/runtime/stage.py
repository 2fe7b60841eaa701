"""``StageRuntime``: run one processor over Kafka, exactly once.

For every batch of one input partition the runtime begins a transaction on
that partition's own producer, writes the processor's outputs and (stateful
stages) its state changes to the compacted changelog, adds the consumed
offsets for the group, and commits; batches of different partitions run
concurrently. A crash at any point leaves either the
whole batch committed or none of it; the next owner of the partition fences
the old producer, reads the committed offset, replays the changelog and goes on
from there.

A partition is *pending* from its assignment (or a failed transaction) until
its producer is started, its position is the committed offset and the state is
restored; pending partitions are paused, so no record is processed before.
A failed transaction is aborted, its state changes discarded, and the
partition goes back to pending (after a back-off for broker trouble). A batch
that fails because of its content is retried one record per transaction, and a
single record that still fails is dead-lettered with the exception's class.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError

from core.errors import KafkaUnavailableError
from core.kafka.clients import committed_consumer
from router.processor import InputRecord, Output, Processor, StatefulProcessor, checkpointed
from router.runtime.batches import OutRecord, write_with_offsets
from router.runtime.changelog import StateKeys, replay_changelog
from router.runtime.config import StageConfig
from router.runtime.deadletters import runtime_dead_letter
from router.runtime.errors import StageConfigError, StateRestoreError
from router.runtime.faults import is_fenced, is_record_fault, needs_new_producer
from router.runtime.producers import PartitionProducers
from router.runtime.stats import StageCounters, StageStatus
from router.runtime.topics import check_stage_topics

log = structlog.get_logger(__name__)

_MAX_BACKOFF_S = 5.0
# Failures of a partition's set-up that a later attempt may overcome.
_TRANSIENT = (KafkaError, TimeoutError, OSError, KafkaUnavailableError, StateRestoreError)


@dataclass(frozen=True)
class _Poison:
    """A record that failed alone: the next attempt dead-letters it instead of processing it."""

    offset: int
    cause: BaseException
    kind: str


class _ProcessorCrashError(Exception):
    """A stateful processor raised: its in-memory state can no longer be trusted."""

    def __init__(self, record: InputRecord, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.record = record
        self.cause = cause


class _RevokedError(Exception):
    """The partition is being revoked: abort instead of committing."""


class StageRuntime:
    """Runs ``processor`` over ``config.input_topics`` with exactly-once output.

    A stateful stage (``config.changelog_topic`` set) needs a
    :class:`StatefulProcessor` and exactly one input partition in total: its
    state is one total order, owned by one group member at a time, the others
    standing by. :meth:`run` returns after :meth:`stop`, having left the group
    with no transaction open.
    """

    def __init__(self, config: StageConfig, processor: Processor | StatefulProcessor) -> None:
        self._config = config
        self._processor = processor
        self._state: StatefulProcessor | None = None
        if config.changelog_topic is not None:
            missing = [
                name
                for name in ("restore", "take_changes", "discard_changes", "reset")
                if not callable(getattr(processor, name, None))
            ]
            if missing:
                raise StageConfigError(
                    f"stage {config.name}: a changelog needs a StatefulProcessor "
                    f"(missing {', '.join(missing)})"
                )
            self._state = cast(StatefulProcessor, processor)
        self._producers = PartitionProducers(
            config.bootstrap,
            config.transactional_id_prefix,
            transaction_timeout_ms=config.transaction_timeout_ms,
            timeout_s=config.kafka_timeout_s,
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._started = False
        self._running = False
        self._joined = False
        self._revoking = False
        self._broker_ok = True
        self._pending: dict[TopicPartition, float] = {}  # partition -> not before (loop time)
        self._expected: dict[TopicPartition, int] = {}  # next offset to process
        self._positions: dict[TopicPartition, int] = {}  # consumed and processed up to
        # Fetched, not yet processed (linger): records and when the first was fetched.
        self._held: dict[TopicPartition, list[Any]] = {}
        self._held_since: dict[TopicPartition, float] = {}
        self._failures: dict[TopicPartition, int] = {}
        self._careful_until: dict[TopicPartition, int] = {}
        self._poison: dict[TopicPartition, _Poison] = {}
        self._changelog_end: dict[int, int] = {}  # partition -> one past our last committed write
        self._changelog_partitions: list[int] = []
        self._state_keys = StateKeys()
        self._counters = StageCounters()

    @property
    def name(self) -> str:
        """The stage's name, as in logs and dead letters."""
        return self._config.name

    def stop(self) -> None:
        """Ask :meth:`run` to finish the batch in hand, close its producers and leave the group."""
        self._stopping.set()

    def status(self) -> StageStatus:
        """Readiness, ownership, counters, state size and lag, as of now."""
        pending = tuple(sorted(_name(tp) for tp in self._pending))
        owned = tuple(
            sorted(_name(tp) for tp in self._producers.owned() if tp not in self._pending)
        )
        if not self._running:
            role = "stopped" if self._started else "starting"
        elif not self._joined or pending:
            role = "starting"
        else:
            role = "active" if owned else "standby"
        return StageStatus(
            stage=self._config.name,
            running=self._running,
            ready=self._running and self._joined and not pending and self._broker_ok,
            broker_reachable=self._broker_ok,
            role=role,
            owned=owned,
            pending=pending,
            counters=StageCounters(**vars(self._counters)),
            state_size=len(self._state_keys) if self._state is not None else None,
            lag=self._lag(),
        )

    async def run(self) -> None:
        """Consume and process until :meth:`stop`; raises on a wiring or fatal broker error."""
        if self._started:
            raise StageConfigError(f"stage {self._config.name} runs once per StageRuntime")
        self._started = True
        await self._check_inputs()
        consumer = committed_consumer(
            self._config.bootstrap,
            group_id=self._config.group_id,
            client_id=self._config.client_id or self._config.group_id,
            session_timeout_ms=self._config.session_timeout_ms,
            heartbeat_interval_ms=max(self._config.session_timeout_ms // 4, 100),
            max_poll_records=self._config.max_batch_records,
            max_partition_fetch_bytes=self._config.max_partition_fetch_bytes,
        )
        self._consumer = consumer
        try:
            async with asyncio.timeout(self._config.kafka_timeout_s):
                await consumer.start()
            consumer.subscribe(list(self._config.input_topics), listener=_Listener(self))
            self._running = True
            log.info("stage started", stage=self._config.name, group=self._config.group_id)
            while not self._stopping.is_set():
                await self._set_up_pending()
                await self._note_positions()
                batches = await self._poll()
                if batches:
                    await self._process_all(batches)
        finally:
            self._running = False
            await self._shut_down()

    # --- assignment -----------------------------------------------------------------

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._revoking = True
        try:
            async with self._lock:
                for tp in revoked | set(self._producers.owned()):
                    await self._producers.close(tp)
                    self._forget(tp)
                if self._state is not None and revoked:
                    if checkpointed(self._state) is not None:
                        # The local store holds committed state only: keep it for next time.
                        self._state.discard_changes()
                    else:
                        self._state.reset()
                        self._state_keys.clear()
        finally:
            self._revoking = False
        if revoked:
            log.info("partitions revoked", stage=self._config.name, partitions=_names(revoked))

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._joined = True
        now = asyncio.get_running_loop().time()
        fresh = [tp for tp in assigned if tp not in self._producers]
        for tp in fresh:
            self._pending[tp] = now
        if fresh and self._consumer is not None:
            self._consumer.pause(*fresh)
        log.info("partitions assigned", stage=self._config.name, partitions=_names(assigned))

    def _forget(self, tp: TopicPartition) -> None:
        tables = (self._pending, self._expected, self._positions, self._failures)
        for table in (*tables, self._careful_until):
            table.pop(tp, None)
        self._poison.pop(tp, None)

    async def _set_up_pending(self) -> None:
        """Fence, seek to the committed offset and restore state for due pending partitions."""
        consumer = self._require_consumer()
        now = asyncio.get_running_loop().time()
        if not any(at <= now for at in self._pending.values()):
            return
        async with self._lock:
            assignment = consumer.assignment()
            for tp in [tp for tp in self._pending if tp not in assignment]:
                self._forget(tp)
            due = [tp for tp, at in self._pending.items() if at <= now]
            if not due:
                return
            try:
                await asyncio.gather(*(self._producers.open(tp) for tp in due))
                async with asyncio.timeout(self._config.kafka_timeout_s):
                    for tp in due:
                        committed = await consumer.committed(tp)
                        if committed is None:
                            committed = (await consumer.beginning_offsets([tp]))[tp]
                        # After our own abort, what we committed last is known exactly; the
                        # broker may not show it yet (a commit returns before its markers).
                        committed = max(committed, self._expected.get(tp, committed))
                        consumer.seek(tp, committed)
                        self._expected[tp] = committed
                if self._state is not None:
                    await self._restore_state()
            except _TRANSIENT as exc:
                self._broker_ok = False
                for tp in due:
                    self._retry_later(tp)
                log.warning(
                    "partition set-up failed; retrying",
                    stage=self._config.name,
                    partitions=_names(due),
                    error=type(exc).__name__,
                    detail=str(exc),
                )
                return
            for tp in due:
                del self._pending[tp]
            consumer.resume(*due)
            self._broker_ok = True
        log.info(
            "partitions ready",
            stage=self._config.name,
            partitions=_names(due),
            offsets={_name(tp): self._expected[tp] for tp in due},
            state_size=len(self._state_keys) if self._state is not None else None,
        )

    async def _restore_state(self) -> None:
        state, changelog = self._state, self._config.changelog_topic
        if state is None or changelog is None:
            return
        state.discard_changes()
        store = checkpointed(state)
        if store is not None:
            self._state_keys.count_by(store.live_keys)
        replayed = await replay_changelog(
            self._config.bootstrap,
            changelog,
            state,
            self._state_keys,
            partitions=self._changelog_partitions,
            must_reach=self._changelog_end,
            timeout_s=self._config.kafka_timeout_s,
        )
        self._counters.restores += 1
        self._counters.records_restored += replayed

    def _retry_later(self, tp: TopicPartition, *, at_least_s: float = 0.0) -> None:
        """Back off exponentially, then set ``tp`` up again (see :meth:`_set_up_pending`)."""
        failures = self._failures.get(tp, 0) + 1
        self._failures[tp] = failures
        delay = max(min(0.1 * 2 ** (failures - 1), _MAX_BACKOFF_S), at_least_s)
        self._send_back(tp, delay)

    def _send_back(self, tp: TopicPartition, delay_s: float) -> None:
        """Pause ``tp`` and make it pending: seek to committed and restore state before more."""
        self._pending[tp] = asyncio.get_running_loop().time() + delay_s
        consumer = self._require_consumer()
        if tp in consumer.assignment():
            consumer.pause(tp)

    # --- processing -------------------------------------------------------------------

    async def _poll(self) -> dict[TopicPartition, list[Any]]:
        """Fetch, and return the batches that are due (all of them without linger)."""
        consumer = self._require_consumer()
        linger_s = self._config.linger_ms / 1000
        loop = asyncio.get_running_loop()
        timeout_ms = self._config.poll_timeout_ms
        if self._held_since:
            due_in = min(self._held_since.values()) + linger_s - loop.time()
            timeout_ms = max(0, min(timeout_ms, int(due_in * 1000)))
        try:
            fetched: dict[TopicPartition, list[Any]] = await consumer.getmany(
                timeout_ms=timeout_ms,
                max_records=self._config.max_batch_records,
            )
        except KafkaError as exc:
            if not exc.retriable:
                raise
            self._broker_ok = False
            log.warning("poll failed; retrying", stage=self._config.name, error=type(exc).__name__)
            await self._wait_or_stop(1.0)
            return {}
        if not linger_s and not self._held:
            return fetched
        now = loop.time()
        for tp, messages in fetched.items():
            held = self._held.get(tp)
            if held and messages and messages[0].offset <= held[-1].offset:
                held = None  # fetched again after a seek: the new fetch supersedes
            if held is None:
                self._held[tp] = list(messages)
                self._held_since[tp] = now
            else:
                held.extend(messages)
        assignment = consumer.assignment()
        due: dict[TopicPartition, list[Any]] = {}
        for tp in list(self._held):
            if tp in self._pending or tp not in assignment:
                self._release(tp)  # revoked or being set up again: read anew from committed
            elif (
                len(self._held[tp]) >= self._config.max_batch_records
                or now - self._held_since[tp] >= linger_s
                or self._stopping.is_set()
            ):
                due[tp] = self._held[tp]
                self._release(tp)
        return due

    def _release(self, tp: TopicPartition) -> None:
        self._held.pop(tp, None)
        self._held_since.pop(tp, None)

    async def _process_all(self, batches: dict[TopicPartition, list[Any]]) -> None:
        """Process each partition's batch; partitions in parallel, each on its own producer."""
        async with self._lock:
            await asyncio.gather(*(self._process(tp, batch) for tp, batch in batches.items()))

    async def _process(self, tp: TopicPartition, messages: Sequence[Any]) -> None:
        if tp not in self._producers or tp in self._pending:
            return  # revoked or being recovered: these records are stale
        # Offsets below what is committed are done; held and fetched again after a seek,
        # a record may come twice: keep one increasing run from the expected offset.
        todo: list[Any] = []
        expected = self._expected[tp]
        for m in messages:
            if m.offset >= expected:
                todo.append(m)
                expected = m.offset + 1
        while todo and not self._revoking:
            careful = todo[0].offset <= self._careful_until.get(tp, -1)
            size = 1 if careful else min(len(todo), self._config.max_batch_records)
            chunk, todo = todo[:size], todo[size:]
            if not await self._transact(tp, [_input_record(m) for m in chunk]):
                return

    async def _transact(self, tp: TopicPartition, chunk: list[InputRecord]) -> bool:
        """Process ``chunk`` and commit it with its offsets in one transaction; False if aborted."""
        producer = self._producers.get(tp)
        dead_letters = 0
        try:
            outputs, dead_letters = self._outputs_of(tp, chunk)
            changes = self._state.take_changes() if self._state is not None else []
            await producer.begin_transaction()
            records: list[OutRecord] = [
                OutRecord(o.topic, o.key, o.value, o.headers) for o in outputs
            ]
            if changes:
                changelog = self._require_changelog()
                records += [OutRecord(changelog, key, value) for key, value in changes]
            landed = await write_with_offsets(
                producer, records, {tp: chunk[-1].offset + 1}, self._config.group_id
            )
            written = landed[len(outputs) :]
            self._check_not_revoking()
            await producer.commit_transaction()
        except asyncio.CancelledError:
            await self._producers.close(tp)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure aborts; _recover sorts them
            await self._recover(tp, chunk, exc)
            return False
        self._committed(tp, chunk, len(outputs), dead_letters, changes, written)
        return True

    def _outputs_of(self, tp: TopicPartition, chunk: list[InputRecord]) -> tuple[list[Output], int]:
        outputs: list[Output] = []
        dead_letters = 0
        poison = self._poison.get(tp)
        for record in chunk:
            if poison is not None and record.offset == poison.offset:
                outputs.append(self._dead_letter(record, poison.cause, poison.kind))
                dead_letters += 1
                continue
            try:
                outputs += self._processor.process(record)
            except Exception as exc:
                if self._state is not None:
                    raise _ProcessorCrashError(record, exc) from exc
                outputs.append(self._dead_letter(record, exc, "processor_error"))
                dead_letters += 1
        return outputs, dead_letters

    def _dead_letter(self, record: InputRecord, cause: BaseException, kind: str) -> Output:
        log.warning(
            "record dead-lettered by the runtime",
            stage=self._config.name,
            source=f"{record.topic}-{record.partition}-{record.offset}",
            kind=kind,
            error=type(cause).__name__,
        )
        return runtime_dead_letter(
            record, cause, stage=self._config.name, kind=kind, topic=self._config.dead_letter_topic
        )

    def _committed(
        self,
        tp: TopicPartition,
        chunk: list[InputRecord],
        outputs: int,
        dead_letters: int,
        changes: list[tuple[bytes, bytes | None]],
        written: list[Any],
    ) -> None:
        last = chunk[-1].offset
        self._expected[tp] = last + 1
        self._failures.pop(tp, None)
        if self._careful_until.get(tp, -1) <= last:
            self._careful_until.pop(tp, None)
        poison = self._poison.get(tp)
        if poison is not None and poison.offset <= last:
            del self._poison[tp]
        ends: dict[int, int] = {}
        for (key, value), meta in zip(changes, written, strict=True):
            self._state_keys.apply(key, value)
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
        for partition, end in ends.items():
            self._changelog_end[partition] = max(self._changelog_end.get(partition, 0), end)
        store = checkpointed(self._state)
        if store is not None and changes:
            store.committed(ends)  # writes reach the local store only once committed
        self._broker_ok = True
        self._counters.transactions += 1
        self._counters.records_in += len(chunk)
        self._counters.records_out += outputs
        self._counters.dead_letters += dead_letters

    async def _recover(self, tp: TopicPartition, chunk: list[InputRecord], exc: Exception) -> None:
        """Abort, forget uncommitted state, and send the partition back to pending."""
        self._counters.aborts += 1
        cause: BaseException = exc.cause if isinstance(exc, _ProcessorCrashError) else exc
        log.warning(
            "transaction aborted",
            stage=self._config.name,
            partition=_name(tp),
            first_offset=chunk[0].offset,
            records=len(chunk),
            error=type(cause).__name__,
        )
        aborted = await self._producers.abort(tp)
        if not aborted or needs_new_producer(exc):
            await self._producers.close(tp)
            self._counters.producers_recreated += 1
        if self._state is not None:
            self._state.discard_changes()
        if isinstance(exc, _RevokedError):
            return  # the revocation closes the producer and forgets the partition
        if isinstance(exc, _ProcessorCrashError) or is_record_fault(exc):
            kind = "processor_error" if isinstance(exc, _ProcessorCrashError) else "output_rejected"
            if len(chunk) == 1:
                self._poison[tp] = _Poison(chunk[0].offset, cause, kind)
            else:
                self._careful_until[tp] = chunk[-1].offset
            self._send_back(tp, 0.0)  # the record's fault, not the broker's: no back-off
            return
        if is_fenced(exc):
            # Someone else holds our transactional id: the group has most likely moved the
            # partition. Wait a session for the rebalance before fencing them back.
            self._retry_later(tp, at_least_s=self._config.session_timeout_ms / 1000)
            return
        self._broker_ok = False
        self._retry_later(tp)

    # --- lifecycle --------------------------------------------------------------------

    async def _check_inputs(self) -> None:
        """Fail early, and clearly, on missing topics or a stateful stage over many partitions."""
        try:
            self._changelog_partitions = await check_stage_topics(
                self._config, stateful=self._state is not None
            )
        except KafkaUnavailableError:
            self._broker_ok = False
            raise

    async def _shut_down(self) -> None:
        async with self._lock:
            await self._producers.close_all()
            if self._consumer is not None:
                try:
                    await asyncio.wait_for(self._consumer.stop(), timeout=5)
                except Exception as exc:  # noqa: BLE001 - leaving the group is best effort
                    log.warning("consumer stop failed", error=type(exc).__name__)
        log.info("stage stopped", stage=self._config.name)

    async def _wait_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _check_not_revoking(self) -> None:
        if self._revoking:
            raise _RevokedError

    def _require_changelog(self) -> str:
        if self._config.changelog_topic is None:
            raise StageConfigError(f"stage {self._config.name} has no changelog topic")
        return self._config.changelog_topic

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise StageConfigError(f"stage {self._config.name} is not running")
        return self._consumer

    async def _note_positions(self) -> None:
        """Remember how far each ready partition is consumed (all of it processed by now)."""
        consumer = self._require_consumer()
        for tp in list(self._expected):  # a rebalance may change it while we await
            if tp in self._pending or tp not in consumer.assignment() or tp in self._held:
                continue  # (held records are consumed but not processed yet)
            with contextlib.suppress(IllegalStateError):
                # Past transaction markers too, which `_expected` never sees.
                self._positions[tp] = await consumer.position(tp)

    def _lag(self) -> int | None:
        if self._consumer is None or not self._running:
            return None
        lag = 0
        for tp, expected in self._expected.items():
            end = self._consumer.last_stable_offset(tp)
            if end is None:
                end = self._consumer.highwater(tp)
            if end is not None:
                lag += max(end - max(expected, self._positions.get(tp, 0)), 0)
        return lag


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Aborts and closes on revocation; marks new partitions pending (and paused) on assignment."""

    def __init__(self, runtime: StageRuntime) -> None:
        self._runtime = runtime

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runtime._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runtime._on_assigned(set(assigned))


def _input_record(message: Any) -> InputRecord:
    return InputRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((name, value) for name, value in (message.headers or ())),
        timestamp_ms=message.timestamp,
    )


def _name(tp: TopicPartition) -> str:
    return f"{tp.topic}-{tp.partition}"


def _names(tps: set[TopicPartition] | list[TopicPartition]) -> list[str]:
    return sorted(_name(tp) for tp in tps)
