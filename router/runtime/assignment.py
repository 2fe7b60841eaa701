"""Assignment: partitions coming and going, and setting a partition up before it is processed.

A partition is *pending* from its assignment (or a failed transaction) until
its producer is started (fencing any older owner), its position is the
committed offset and, for a stateful stage, the state is restored from the
changelog; pending partitions are paused, so no record is processed on stale
state. A revocation aborts the batch in hand, closes the producers and forgets
the partitions.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from core.errors import KafkaUnavailableError
from router.processor import checkpointed
from router.runtime.changelog import replay_changelog
from router.runtime.context import StageContext
from router.runtime.errors import StateRestoreError
from router.runtime.partition_state import partition_name, partition_names

log = structlog.get_logger(__name__)

_MAX_BACKOFF_S = 5.0
# Failures of a partition's set-up that a later attempt may overcome.
_TRANSIENT = (KafkaError, TimeoutError, OSError, KafkaUnavailableError, StateRestoreError)


class Assignment:
    """Tracks which partitions the stage owns and brings pending ones up to date."""

    def __init__(self, context: StageContext) -> None:
        self._ctx = context

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Mark the partitions that have no producer yet pending, and pause them."""
        ctx = self._ctx
        ctx.joined = True
        now = asyncio.get_running_loop().time()
        fresh = [tp for tp in assigned if tp not in ctx.producers]
        for tp in fresh:
            ctx.partitions.entry(tp).pending_until = now
        if fresh and ctx.consumer is not None:
            ctx.consumer.pause(*fresh)
        log.info("partitions assigned", stage=ctx.config.name, partitions=partition_names(assigned))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Abort the batch in hand, close the producers and drop uncommitted state.

        A local store holds committed state only, so it is kept for next time;
        any other state is reset.
        """
        ctx = self._ctx
        ctx.revoking = True
        try:
            async with ctx.lock:
                for tp in revoked | set(ctx.producers.owned()):
                    await ctx.producers.close(tp)
                    ctx.partitions.forget(tp)
                if ctx.state is not None and revoked:
                    if checkpointed(ctx.state) is not None:
                        ctx.state.discard_changes()
                    else:
                        ctx.state.reset()
                        ctx.state_keys.clear()
        finally:
            ctx.revoking = False
        if revoked:
            log.info(
                "partitions revoked", stage=ctx.config.name, partitions=partition_names(revoked)
            )

    async def set_up_pending(self) -> None:
        """Fence, seek to the committed offset and restore state for the due pending partitions.

        On a failure that a later attempt may overcome they stay pending, with
        a back-off (see :meth:`retry_later`).
        """
        ctx = self._ctx
        consumer = ctx.require_consumer()
        now = asyncio.get_running_loop().time()
        if not any(entry.due(now) for entry in ctx.partitions.values()):
            return
        async with ctx.lock:
            assignment = consumer.assignment()
            for tp in [tp for tp in ctx.partitions.pending() if tp not in assignment]:
                ctx.partitions.forget(tp)
            due = [tp for tp, entry in ctx.partitions.items() if entry.due(now)]
            if not due:
                return
            try:
                await asyncio.gather(*(ctx.producers.open(tp) for tp in due))
                async with asyncio.timeout(ctx.config.kafka_timeout_s):
                    for tp in due:
                        committed = await consumer.committed(tp)
                        if committed is None:
                            committed = (await consumer.beginning_offsets([tp]))[tp]
                        # After our own abort, what we committed last is known exactly; the
                        # broker may not show it yet (a commit returns before its markers).
                        entry = ctx.partitions.entry(tp)
                        if entry.expected is not None:
                            committed = max(committed, entry.expected)
                        consumer.seek(tp, committed)
                        entry.expected = committed
                if ctx.state is not None:
                    await self._restore_state()
            except _TRANSIENT as exc:
                ctx.broker_ok = False
                for tp in due:
                    self.retry_later(tp)
                log.warning(
                    "partition set-up failed; retrying",
                    stage=ctx.config.name,
                    partitions=partition_names(due),
                    error=type(exc).__name__,
                    detail=str(exc),
                )
                return
            for tp in due:
                ctx.partitions.entry(tp).pending_until = None
            consumer.resume(*due)
            ctx.broker_ok = True
        log.info(
            "partitions ready",
            stage=ctx.config.name,
            partitions=partition_names(due),
            offsets={partition_name(tp): ctx.partitions.entry(tp).expected for tp in due},
            state_size=len(ctx.state_keys) if ctx.state is not None else None,
        )

    def retry_later(self, tp: TopicPartition, *, at_least_s: float = 0.0) -> None:
        """Back off exponentially (at least ``at_least_s``), then set ``tp`` up again."""
        entry = self._ctx.partitions.entry(tp)
        entry.failures += 1
        delay = max(min(0.1 * 2 ** (entry.failures - 1), _MAX_BACKOFF_S), at_least_s)
        self.send_back(tp, delay)

    def send_back(self, tp: TopicPartition, delay_s: float) -> None:
        """Pause ``tp`` and make it pending: seek to committed and restore state before more."""
        self._ctx.partitions.entry(tp).pending_until = asyncio.get_running_loop().time() + delay_s
        consumer = self._ctx.require_consumer()
        if tp in consumer.assignment():
            consumer.pause(tp)

    async def _restore_state(self) -> None:
        ctx = self._ctx
        state, changelog = ctx.state, ctx.config.changelog_topic
        if state is None or changelog is None:
            return
        state.discard_changes()
        store = checkpointed(state)
        if store is not None:
            ctx.state_keys.count_by(store.live_keys)
        replayed = await replay_changelog(
            ctx.config.bootstrap,
            changelog,
            state,
            ctx.state_keys,
            partitions=ctx.changelog_partitions,
            must_reach=ctx.changelog_end,
            timeout_s=ctx.config.kafka_timeout_s,
        )
        ctx.counters.restores += 1
        ctx.counters.records_restored += replayed


class RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands the group's rebalances to :class:`Assignment`: revocations first, then assignments."""

    def __init__(self, assignment: Assignment) -> None:
        self._assignment = assignment

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Abort and close what is revoked (see :meth:`Assignment.on_revoked`)."""
        await self._assignment.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Mark new partitions pending and paused (see :meth:`Assignment.on_assigned`)."""
        self._assignment.on_assigned(set(assigned))
