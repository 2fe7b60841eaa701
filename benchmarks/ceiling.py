"""The ceiling: pre-loaded raw records consumed and produced again with no processing.

Same settings as a router stage: read_committed, no auto-commit, batches of
up to the router's batch size, each written in one transaction (acks=all,
idempotent) together with the consumed offsets; aiokafka writes them as the
router does (one record batch per partition, ``router.runtime.batches``).
One hop (raw topics -> one output topic); the router makes two (raw ->
normalized -> dispatch). Done with aiokafka (the router's client) and with
confluent-kafka (librdkafka) for comparison.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from benchmarks.data import RawRecord, preload
from benchmarks.kafka import delete_namespace, fresh_catalog
from core.kafka.clients import (
    committed_consumer,
    confluent_consumer,
    confluent_producer,
    transactional_producer,
)
from core.kafka.topics import TopicCatalog
from router.runtime.batches import OutRecord, write_batches
from router.runtime.producers import BATCH_BYTES
from router.stages import MAX_BATCH_RECORDS, MAX_PARTITION_FETCH_BYTES

BATCH = MAX_BATCH_RECORDS  # the router's batch: records per poll and transaction


async def ceiling(client: str, bootstrap: str, records: list[RawRecord]) -> float:
    """Records per second through one consume-transform(none)-produce hop with ``client``."""
    catalog = await fresh_catalog(bootstrap, "c")
    try:
        await asyncio.to_thread(preload, bootstrap, catalog, records, f"{catalog.namespace}load")
        if client == "aiokafka":
            seconds = await _aiokafka_hop(bootstrap, catalog, len(records))
        else:
            seconds = await asyncio.to_thread(_confluent_hop, bootstrap, catalog, len(records))
        return len(records) / seconds
    finally:
        await delete_namespace(bootstrap, catalog)


async def _aiokafka_hop(bootstrap: str, catalog: TopicCatalog, count: int) -> float:
    group = f"{catalog.namespace}ceiling"
    consumer = committed_consumer(
        bootstrap,
        *catalog.raw_topics(),
        group_id=group,
        max_poll_records=BATCH,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
    )
    producer = transactional_producer(
        bootstrap, f"{catalog.namespace}ceiling", max_batch_size=BATCH_BYTES
    )
    await consumer.start()
    await producer.start()
    try:
        done = 0
        first: float | None = None
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=BATCH)
            if not batches:
                continue
            if first is None:
                first = time.perf_counter()
            async with producer.transaction():
                sent = await write_batches(
                    producer,
                    [
                        OutRecord(catalog.router_normalized, m.key, m.value, m.headers)
                        for messages in batches.values()
                        for m in messages
                    ],
                )
                offsets = {
                    TopicPartition(tp.topic, tp.partition): messages[-1].offset + 1
                    for tp, messages in batches.items()
                }
                await producer.send_offsets_to_transaction(offsets, group)
            done += len(sent)
        return time.perf_counter() - (first or 0.0)
    finally:
        await producer.stop()
        await consumer.stop()


def _confluent_hop(bootstrap: str, catalog: TopicCatalog, count: int) -> float:
    consumer = confluent_consumer(
        bootstrap,
        {
            "group.id": f"{catalog.namespace}ceiling-confluent",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        },
    )
    producer = confluent_producer(
        bootstrap,
        {
            "transactional.id": f"{catalog.namespace}ceiling-confluent",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        },
    )
    producer.init_transactions(30)
    consumer.subscribe(catalog.raw_topics())
    try:
        done = 0
        first: float | None = None
        while done < count:
            messages = [m for m in consumer.consume(BATCH, 0.2) if m.error() is None]
            if not messages:
                continue
            if first is None:
                first = time.perf_counter()
            producer.begin_transaction()
            for m in messages:
                while True:
                    try:
                        producer.produce(
                            catalog.router_normalized, m.value(), m.key(), headers=m.headers()
                        )
                        break
                    except BufferError:
                        producer.poll(0.01)
                producer.poll(0)
            producer.send_offsets_to_transaction(
                consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
            )
            producer.commit_transaction(30)
            done += len(messages)
        return time.perf_counter() - (first or 0.0)
    finally:
        consumer.close()
