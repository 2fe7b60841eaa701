"""``StageRuntime``: run one processor over Kafka, exactly once.

For every batch of one input partition the runtime begins a transaction on
that partition's own producer, writes the processor's outputs and (stateful
stages) its state changes to the compacted changelog, adds the consumed
offsets for the group, and commits; batches of different partitions run
concurrently. A crash at any point leaves either the whole batch committed or
none of it; the next owner of the partition fences the old producer, reads the
committed offset, replays the changelog and goes on from there.

This module is the loop; its parts each do one job on a shared
:class:`StageContext`: ``assignment`` (rebalances, setting pending partitions
up), ``linger`` (holding fetched records until they make a batch) and
``transactions`` (the transaction cycle, abort and recovery).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

import structlog
from aiokafka.errors import IllegalStateError, KafkaError

from core.errors import KafkaUnavailableError
from core.kafka.clients import committed_consumer
from router.processor import Processor, StatefulProcessor
from router.runtime.assignment import Assignment, RebalanceListener
from router.runtime.config import StageConfig
from router.runtime.context import StageContext
from router.runtime.errors import StageConfigError
from router.runtime.linger import Batches, Linger
from router.runtime.partition_state import partition_name
from router.runtime.producers import PartitionProducers
from router.runtime.stats import StageCounters, StageStatus
from router.runtime.topics import check_stage_topics
from router.runtime.transactions import TransactionCycle

log = structlog.get_logger(__name__)

_STATEFUL_METHODS = ("restore", "take_changes", "discard_changes", "reset")


class StageRuntime:
    """Runs ``processor`` over ``config.input_topics`` with exactly-once output.

    A stateful stage (``config.changelog_topic`` set) needs a
    :class:`StatefulProcessor` and exactly one input partition in total: its
    state is one total order, owned by one group member at a time, the others
    standing by. :meth:`run` returns after :meth:`stop`, having left the group
    with no transaction open.
    """

    def __init__(self, config: StageConfig, processor: Processor | StatefulProcessor) -> None:
        state: StatefulProcessor | None = None
        if config.changelog_topic is not None:
            missing = [m for m in _STATEFUL_METHODS if not callable(getattr(processor, m, None))]
            if missing:
                raise StageConfigError(
                    f"stage {config.name}: a changelog needs a StatefulProcessor "
                    f"(missing {', '.join(missing)})"
                )
            state = cast(StatefulProcessor, processor)
        producers = PartitionProducers(
            config.bootstrap,
            config.transactional_id_prefix,
            transaction_timeout_ms=config.transaction_timeout_ms,
            timeout_s=config.kafka_timeout_s,
        )
        self._ctx = StageContext(config, processor, state, producers)
        self._assignment = Assignment(self._ctx)
        self._cycle = TransactionCycle(self._ctx, self._assignment)
        self._linger = Linger(
            self._ctx.partitions,
            linger_ms=config.linger_ms,
            max_records=config.max_batch_records,
            poll_timeout_ms=config.poll_timeout_ms,
        )
        self._stopping = asyncio.Event()
        self._next_punctuation = 0.0
        self._started = False
        self._running = False

    @property
    def name(self) -> str:
        """The stage's name, as in logs and dead letters."""
        return self._ctx.config.name

    def stop(self) -> None:
        """Ask :meth:`run` to finish the batch in hand, close its producers and leave the group."""
        self._stopping.set()

    def status(self) -> StageStatus:
        """Readiness, ownership, counters, state size and lag, as of now."""
        ctx = self._ctx
        pending_tps = ctx.partitions.pending()
        pending = tuple(sorted(partition_name(tp) for tp in pending_tps))
        owned = tuple(
            sorted(partition_name(tp) for tp in ctx.producers.owned() if tp not in pending_tps)
        )
        if not self._running:
            role = "stopped" if self._started else "starting"
        elif not ctx.joined or pending:
            role = "starting"
        else:
            role = "active" if owned else "standby"
        return StageStatus(
            stage=ctx.config.name,
            running=self._running,
            ready=self._running and ctx.joined and not pending and ctx.broker_ok,
            broker_reachable=ctx.broker_ok,
            role=role,
            owned=owned,
            pending=pending,
            counters=StageCounters(**vars(ctx.counters)),
            state_size=len(ctx.state_keys) if ctx.state is not None else None,
            lag=self._lag(),
        )

    async def run(self) -> None:
        """Consume and process until :meth:`stop`; raises on a wiring or fatal broker error."""
        ctx, config = self._ctx, self._ctx.config
        if self._started:
            raise StageConfigError(f"stage {config.name} runs once per StageRuntime")
        self._started = True
        try:
            ctx.changelog_partitions = await check_stage_topics(
                config, stateful=ctx.state is not None
            )
        except KafkaUnavailableError:
            ctx.broker_ok = False
            raise
        consumer = committed_consumer(
            config.bootstrap,
            group_id=config.group_id,
            client_id=config.client_id or config.group_id,
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=max(config.session_timeout_ms // 4, 100),
            max_poll_records=config.max_batch_records,
            max_partition_fetch_bytes=config.max_partition_fetch_bytes,
        )
        ctx.consumer = consumer
        try:
            async with asyncio.timeout(config.kafka_timeout_s):
                await consumer.start()
            consumer.subscribe(
                list(config.input_topics), listener=RebalanceListener(self._assignment)
            )
            self._running = True
            log.info("stage started", stage=config.name, group=config.group_id)
            while not self._stopping.is_set():
                await self._assignment.set_up_pending()
                await self._note_positions()
                batches = await self._poll()
                if batches:
                    await self._cycle.process_all(batches)
                await self._punctuate()
        finally:
            self._running = False
            await self._shut_down()

    async def _poll(self) -> Batches:
        """Fetch, and return the batches that are due (all of them without linger)."""
        ctx = self._ctx
        consumer = ctx.require_consumer()
        loop = asyncio.get_running_loop()
        try:
            fetched: Batches = await consumer.getmany(
                timeout_ms=self._linger.poll_timeout_ms(loop.time()),
                max_records=ctx.config.max_batch_records,
            )
        except KafkaError as exc:
            if not exc.retriable:
                raise
            ctx.broker_ok = False
            log.warning("poll failed; retrying", stage=ctx.config.name, error=type(exc).__name__)
            await self._wait_or_stop(1.0)
            return {}
        return self._linger.take_due(
            fetched,
            loop.time(),
            assignment=consumer.assignment(),
            flush=self._stopping.is_set(),
        )

    async def _punctuate(self) -> None:
        """Every ``punctuate_every_s``, the processor's time-driven outputs, per owned partition."""
        every = self._ctx.config.punctuate_every_s
        now = asyncio.get_running_loop().time()
        if every is None or now < self._next_punctuation:
            return
        self._next_punctuation = now + every
        async with self._ctx.lock:
            for tp in self._ctx.producers.owned():
                await self._cycle.punctuate(tp)

    async def _note_positions(self) -> None:
        """Remember how far each ready partition is consumed (all of it processed by now)."""
        consumer = self._ctx.require_consumer()
        for tp, entry in list(self._ctx.partitions.items()):  # a rebalance may change it
            if entry.expected is None or entry.pending or entry.holding:
                continue  # (held records are consumed but not processed yet)
            if tp not in consumer.assignment():
                continue
            with contextlib.suppress(IllegalStateError):
                # Past transaction markers too, which `expected` never sees.
                entry.position = await consumer.position(tp)

    def _lag(self) -> int | None:
        consumer = self._ctx.consumer
        if consumer is None or not self._running:
            return None
        lag = 0
        for tp, entry in self._ctx.partitions.items():
            if entry.expected is None:
                continue
            end = consumer.last_stable_offset(tp)
            if end is None:
                end = consumer.highwater(tp)
            if end is not None:
                lag += max(end - max(entry.expected, entry.position), 0)
        return lag

    async def _shut_down(self) -> None:
        async with self._ctx.lock:
            await self._ctx.producers.close_all()
            if self._ctx.consumer is not None:
                try:
                    await asyncio.wait_for(self._ctx.consumer.stop(), timeout=5)
                except Exception as exc:  # noqa: BLE001 - leaving the group is best effort
                    log.warning("consumer stop failed", error=type(exc).__name__)
        log.info("stage stopped", stage=self._ctx.config.name)

    async def _wait_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
