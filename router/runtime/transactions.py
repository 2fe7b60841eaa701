"""The transaction cycle: process a partition's batch and commit it, or abort and recover.

One transaction on the partition's own producer holds the processor's
outputs, its changelog writes (stateful stages) and the consumed offsets;
they are committed together or not at all. A failed transaction is aborted,
its state changes discarded, and the partition sent back to pending (after a
back-off for broker trouble). A batch that fails because of its content is
retried one record per transaction, and a single record that still fails is
dead-lettered with the exception's class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from aiokafka import TopicPartition

from core.kafka.reading import Record
from router.processor import InputRecord, Output, PunctuatingProcessor, checkpointed
from router.runtime.assignment import Assignment
from router.runtime.batches import OutRecord, Written, write_batches, write_with_offsets
from router.runtime.context import StageContext
from router.runtime.deadletters import runtime_dead_letter
from router.runtime.errors import StageConfigError
from router.runtime.faults import is_fenced, is_record_fault, needs_new_producer
from router.runtime.linger import Batches
from router.runtime.partition_state import Poison, partition_name

log = structlog.get_logger(__name__)


class _ProcessorCrashError(Exception):
    """A stateful processor raised: its in-memory state can no longer be trusted."""

    def __init__(self, record: InputRecord, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.record = record
        self.cause = cause


class _RevokedError(Exception):
    """The partition is being revoked: abort instead of committing."""


class TransactionCycle:
    """Processes due batches exactly once, each partition in its own transactions."""

    def __init__(self, context: StageContext, assignment: Assignment) -> None:
        self._ctx = context
        self._assignment = assignment

    async def process_all(self, batches: Batches) -> None:
        """Process each partition's batch; partitions in parallel, each on its own producer."""
        async with self._ctx.lock:
            await asyncio.gather(*(self._process(tp, batch) for tp, batch in batches.items()))

    async def _process(self, tp: TopicPartition, messages: Sequence[Record]) -> None:
        ctx = self._ctx
        entry = ctx.partitions.get(tp)
        if tp not in ctx.producers or entry is None or entry.pending or entry.expected is None:
            return  # revoked or being recovered: these records are stale
        # Offsets below what is committed are done; held and fetched again after a seek,
        # a record may come twice: keep one increasing run from the expected offset.
        todo: list[Record] = []
        expected = entry.expected
        for m in messages:
            if m.offset >= expected:
                todo.append(m)
                expected = m.offset + 1
        while todo and not ctx.revoking:
            careful = todo[0].offset <= entry.careful_until
            size = 1 if careful else min(len(todo), ctx.config.max_batch_records)
            chunk, todo = todo[:size], todo[size:]
            if not await self._transact(tp, [_input_record(m) for m in chunk]):
                return

    async def punctuate(self, tp: TopicPartition) -> bool:
        """Ask a punctuating processor for what time has made due, and commit it.

        One transaction with its outputs and state changes and no offsets
        (nothing was consumed); nothing when it has nothing to say. False if
        aborted: the partition goes back to pending, its state replayed, as
        after a failed batch.
        """
        ctx = self._ctx
        entry = ctx.partitions.get(tp)
        if not isinstance(ctx.processor, PunctuatingProcessor) or tp not in ctx.producers:
            return True
        if entry is None or entry.pending or entry.expected is None:
            return True
        ctx.counters.punctuations += 1
        try:
            outputs = ctx.processor.punctuate()
            changes = ctx.state.take_changes() if ctx.state is not None else []
            if not outputs and not changes:
                return True
            written = await self._commit(tp, outputs, changes, None)
        except asyncio.CancelledError:
            await ctx.producers.close(tp)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure aborts; _recover sorts them
            await self._recover(tp, [], exc)
            return False
        self._note_state(changes, written)
        ctx.counters.transactions += 1
        ctx.counters.records_out += len(outputs)
        return True

    async def _transact(self, tp: TopicPartition, chunk: list[InputRecord]) -> bool:
        """Process ``chunk`` and commit it with its offsets in one transaction; False if aborted."""
        ctx = self._ctx
        dead_letters = 0
        try:
            outputs, dead_letters = self._outputs_of(tp, chunk)
            changes = ctx.state.take_changes() if ctx.state is not None else []
            written = await self._commit(tp, outputs, changes, chunk[-1].offset + 1)
        except asyncio.CancelledError:
            await ctx.producers.close(tp)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure aborts; _recover sorts them
            await self._recover(tp, chunk, exc)
            return False
        self._committed(tp, chunk, len(outputs), dead_letters, changes, written)
        return True

    async def _commit(
        self,
        tp: TopicPartition,
        outputs: list[Output],
        changes: list[tuple[bytes, bytes | None]],
        next_offset: int | None,
    ) -> list[Written]:
        """Outputs, changelog writes and (given ``next_offset``) the offsets in one transaction;
        where the changelog writes landed."""
        ctx = self._ctx
        producer = ctx.producers.get(tp)
        await producer.begin_transaction()
        records = [OutRecord(o.topic, o.key, o.payload, o.headers) for o in outputs]
        if changes:
            changelog = self._require_changelog()
            records += [OutRecord(changelog, key, value) for key, value in changes]
        if next_offset is None:
            landed = await write_batches(producer, records)
        else:
            landed = await write_with_offsets(
                producer, records, {tp: next_offset}, ctx.config.group_id
            )
        self._check_not_revoking()
        await producer.commit_transaction()
        return landed[len(outputs) :]

    def _outputs_of(self, tp: TopicPartition, chunk: list[InputRecord]) -> tuple[list[Output], int]:
        ctx = self._ctx
        outputs: list[Output] = []
        dead_letters = 0
        poison = ctx.partitions.entry(tp).poison
        for record in chunk:
            if poison is not None and record.offset == poison.offset:
                outputs.append(self._dead_letter(record, poison.cause, poison.kind))
                dead_letters += 1
                continue
            try:
                outputs += ctx.processor.process(record)
            except Exception as exc:
                if ctx.state is not None:
                    raise _ProcessorCrashError(record, exc) from exc
                outputs.append(self._dead_letter(record, exc, "processor_error"))
                dead_letters += 1
        return outputs, dead_letters

    def _dead_letter(self, record: InputRecord, cause: BaseException, kind: str) -> Output:
        config = self._ctx.config
        log.warning(
            "record dead-lettered by the runtime",
            stage=config.name,
            source=f"{record.topic}-{record.partition}-{record.offset}",
            kind=kind,
            error=type(cause).__name__,
        )
        return runtime_dead_letter(
            record, cause, stage=config.name, kind=kind, topic=config.dead_letter_topic
        )

    def _committed(
        self,
        tp: TopicPartition,
        chunk: list[InputRecord],
        outputs: int,
        dead_letters: int,
        changes: list[tuple[bytes, bytes | None]],
        written: list[Written],
    ) -> None:
        ctx = self._ctx
        ctx.partitions.entry(tp).committed_through(chunk[-1].offset)
        self._note_state(changes, written)
        ctx.broker_ok = True
        ctx.counters.transactions += 1
        ctx.counters.records_in += len(chunk)
        ctx.counters.records_out += outputs
        ctx.counters.dead_letters += dead_letters

    def _note_state(
        self, changes: list[tuple[bytes, bytes | None]], written: list[Written]
    ) -> None:
        """Committed changelog writes: the state's size, our changelog ends, the local store."""
        ctx = self._ctx
        ends: dict[int, int] = {}
        for (key, value), meta in zip(changes, written, strict=True):
            ctx.state_keys.apply(key, value)
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
        for partition, end in ends.items():
            ctx.changelog_end[partition] = max(ctx.changelog_end.get(partition, 0), end)
        store = checkpointed(ctx.state)
        if store is not None and changes:
            store.committed(ends)  # writes reach the local store only once committed

    async def _recover(self, tp: TopicPartition, chunk: list[InputRecord], exc: Exception) -> None:
        """Abort, forget uncommitted state, and send the partition back to pending."""
        ctx = self._ctx
        ctx.counters.aborts += 1
        cause: BaseException = exc.cause if isinstance(exc, _ProcessorCrashError) else exc
        log.warning(
            "transaction aborted",
            stage=ctx.config.name,
            partition=partition_name(tp),
            first_offset=chunk[0].offset if chunk else None,
            records=len(chunk),
            error=type(cause).__name__,
        )
        aborted = await ctx.producers.abort(tp)
        if not aborted or needs_new_producer(exc):
            await ctx.producers.close(tp)
            ctx.counters.producers_recreated += 1
        if ctx.state is not None:
            ctx.state.discard_changes()
        if isinstance(exc, _RevokedError):
            return  # the revocation closes the producer and forgets the partition
        if (isinstance(exc, _ProcessorCrashError) or is_record_fault(exc)) and chunk:
            kind = "processor_error" if isinstance(exc, _ProcessorCrashError) else "output_rejected"
            entry = ctx.partitions.entry(tp)
            if len(chunk) == 1:
                entry.poison = Poison(chunk[0].offset, cause, kind)
            else:
                entry.careful_until = chunk[-1].offset
            self._assignment.send_back(tp, 0.0)  # the record's fault, not the broker's: no back-off
            return
        if is_fenced(exc):
            # Someone else holds our transactional id: the group has most likely moved the
            # partition. Wait a session for the rebalance before fencing them back.
            self._assignment.retry_later(tp, at_least_s=ctx.config.session_timeout_ms / 1000)
            return
        ctx.broker_ok = False
        self._assignment.retry_later(tp)

    def _check_not_revoking(self) -> None:
        if self._ctx.revoking:
            raise _RevokedError

    def _require_changelog(self) -> str:
        changelog = self._ctx.config.changelog_topic
        if changelog is None:
            raise StageConfigError(f"stage {self._ctx.config.name} has no changelog topic")
        return changelog


def _input_record(message: Record) -> InputRecord:
    return InputRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((name, value) for name, value in (message.headers or ())),
        timestamp_ms=message.timestamp,
    )
