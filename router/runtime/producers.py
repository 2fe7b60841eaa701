"""One transactional producer per owned input partition.

aiokafka commits consumed offsets with the group id only (no KIP-447 member
fencing), so zombies are fenced the classic way: the transactional id is
``<prefix>.<topic>.<partition>`` (:meth:`TopicCatalog.partition_transactional_id`),
and starting a producer with it (its ``InitProducerId``, which aiokafka's
``start()`` awaits) bumps the epoch,
aborts whatever a previous owner left open and waits for its last transaction
to complete. Only after that are the partition's committed offset and the
changelog read.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer, TopicPartition

from core.kafka.aiokafka_adapter import ABORTABLE_STATES, IDLE_STATES, transaction_state
from core.kafka.clients import transactional_producer
from core.kafka.topics import TopicCatalog

log = structlog.get_logger(__name__)

BATCH_BYTES = 512 * 1024


def transactional_id(prefix: str, tp: TopicPartition) -> str:
    """The transactional id of the producer that owns input partition ``tp``."""
    return TopicCatalog.partition_transactional_id(prefix, tp.topic, tp.partition)


class PartitionProducers:
    """Started transactional producers, keyed by the input partition they own."""

    def __init__(
        self, bootstrap: str, prefix: str, *, transaction_timeout_ms: int, timeout_s: float
    ) -> None:
        self._bootstrap = bootstrap
        self._prefix = prefix
        self._transaction_timeout_ms = transaction_timeout_ms
        self._timeout_s = timeout_s
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}

    def __contains__(self, tp: object) -> bool:
        return tp in self._producers

    def get(self, tp: TopicPartition) -> AIOKafkaProducer:
        """The producer of ``tp``; it must have been opened."""
        return self._producers[tp]

    def owned(self) -> list[TopicPartition]:
        """Partitions that have a started producer."""
        return list(self._producers)

    async def open(self, tp: TopicPartition) -> AIOKafkaProducer:
        """Start ``tp``'s producer, fencing any older one; a no-op if it is already open."""
        if tp in self._producers:
            return self._producers[tp]
        producer = transactional_producer(
            self._bootstrap,
            transactional_id(self._prefix, tp),
            transaction_timeout_ms=self._transaction_timeout_ms,
            request_timeout_ms=int(self._timeout_s * 1000),
            # A transaction's records go as one batch per partition (``batches``):
            # room for a whole poll's worth of reports in one.
            max_batch_size=BATCH_BYTES,
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                await producer.start()
        except BaseException:
            await _stop_quietly(producer)
            raise
        self._producers[tp] = producer
        return producer

    async def abort(self, tp: TopicPartition) -> bool:
        """Abort ``tp``'s open transaction; False when the producer must be replaced instead."""
        producer = self._producers.get(tp)
        if producer is None:
            return False
        state = transaction_state(producer)
        if state in IDLE_STATES:
            return True
        if state not in ABORTABLE_STATES:
            return False
        try:
            async with asyncio.timeout(self._timeout_s):
                await producer.abort_transaction()
        except Exception as exc:  # noqa: BLE001 - any failure leaves its state unknown
            log.info("abort failed; the producer will be replaced", error=type(exc).__name__)
            return False
        return True

    async def close(self, tp: TopicPartition) -> None:
        """Abort ``tp``'s open transaction, if any, and stop its producer."""
        if tp not in self._producers:
            return
        if transaction_state(self._producers[tp]) in ABORTABLE_STATES:
            await self.abort(tp)
        await _stop_quietly(self._producers.pop(tp))

    async def close_all(self) -> None:
        """Close every producer (see :meth:`close`)."""
        await asyncio.gather(*(self.close(tp) for tp in list(self._producers)))


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), timeout=5)
    except Exception as exc:  # noqa: BLE001 - a broken producer may fail to flush
        log.debug("producer stop failed", error=type(exc).__name__)
