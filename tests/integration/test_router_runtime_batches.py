"""``write_batches`` against the real broker: placement, order and offsets as ``send`` gives."""

from __future__ import annotations

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from core.kafka.clients import transactional_producer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.runtime.batches import OutRecord, partition_for, write_batches
from tests.kafka_helpers import read_to_end

pytestmark = pytest.mark.integration


async def test_records_land_where_send_would_put_them_in_order_at_the_offsets_returned(
    settings: Settings, topics: TopicCatalog
) -> None:
    spread = topics.dispatch("futian")  # three partitions
    single = topics.alerts  # one partition
    records = [
        OutRecord(spread, f"case-{n % 7}".encode(), f"v{n}".encode(), (("n", str(n).encode()),))
        for n in range(300)
    ]
    records += [OutRecord(single, None, b"x" * 900) for _ in range(50)]
    # A small batch size: one partition's records need several batches.
    producer = transactional_producer(
        settings.kafka_bootstrap, f"{settings.namespace}batches", max_batch_size=4096
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        written = await write_batches(producer, records)
        await producer.commit_transaction()
    finally:
        await producer.stop()

    assert len(written) == len(records)
    landed = await read_to_end(settings.kafka_bootstrap, spread, single)
    at = {(m.topic, m.partition, m.offset): m for m in landed}
    for record, where in zip(records, written, strict=True):
        message = at[(where.topic, where.partition, where.offset)]
        assert (message.key, message.value) == (record.key, record.value)
        assert list(message.headers) == list(record.headers)
        if record.key is not None:
            assert where.partition == partition_for(record.key, [0, 1, 2], [0, 1, 2])
    for partition in (0, 1, 2):  # per-partition order is the input order
        values = [
            m.value
            for m in sorted(landed, key=lambda m: m.offset)
            if (m.topic, m.partition) == (spread, partition)
        ]
        expected = [
            r.value
            for r, w in zip(records, written, strict=True)
            if w.topic == spread and w.partition == partition
        ]
        assert values == expected
    assert len([m for m in landed if m.topic == single]) == 50


async def test_a_record_over_the_request_size_is_refused_before_anything_is_queued(
    settings: Settings, topics: TopicCatalog
) -> None:
    producer = transactional_producer(
        settings.kafka_bootstrap, f"{settings.namespace}huge", max_request_size=10_000
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        with pytest.raises(MessageSizeTooLargeError):
            await write_batches(
                producer,
                [
                    OutRecord(topics.alerts, b"k", b"small"),
                    OutRecord(topics.alerts, b"k", b"x" * 20_000),
                ],
            )
        await producer.abort_transaction()
    finally:
        await producer.stop()
    assert await read_to_end(settings.kafka_bootstrap, topics.alerts) == []
