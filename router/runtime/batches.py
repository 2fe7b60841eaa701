"""Write a transaction's records as one record batch per (topic, partition).

``AIOKafkaProducer.send`` costs a coroutine, a future and a partitioner call
per record; a stage writes hundreds of records per transaction. Here the
records are grouped by the partition ``send(key=...)`` would have chosen
(aiokafka's :class:`DefaultPartitioner`: murmur2 of the key over all the
topic's partitions, a random available partition for a record without key),
appended in order to one closed :class:`BatchBuilder` per partition (more
when one fills up) and handed to ``send_batch``, which adds the partition to
the open transaction like ``send`` does. Placement and per-key order are the
same as with ``send``; only the number of Python calls per record changes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from core.kafka.aiokafka_adapter import max_request_size, topic_partitions

Headers = Sequence[tuple[str, bytes]]

_PARTITIONER = DefaultPartitioner()


@dataclass(frozen=True)
class OutRecord:
    """One record to write: where, and what."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True)
class Written:
    """Where one record landed (what ``send``'s future gives: partition and offset)."""

    topic: str
    partition: int
    offset: int


@functools.lru_cache(maxsize=1 << 16)
def _key_hash(key: bytes) -> int:
    # murmur2 is pure Python in aiokafka; case ids and employer keys repeat a lot.
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_for(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The partition ``DefaultPartitioner`` gives ``key`` (``all_partitions`` sorted)."""
    if len(all_partitions) == 1:
        return all_partitions[0]
    if key is None:
        return int(_PARTITIONER(None, all_partitions, available))
    return all_partitions[_key_hash(key) % len(all_partitions)]


async def write_batches(producer: AIOKafkaProducer, records: Sequence[OutRecord]) -> list[Written]:
    """Write ``records`` in the producer's open transaction; where each landed, in order.

    Returns once every batch is acknowledged (as awaiting every ``send``
    future would); raises the first failure.
    """
    if not records:
        return []
    limit = max_request_size(producer)
    for record in records:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            record.key, record.value, list(record.headers)
        )
        if size > limit:  # what ``send`` raises, before anything is queued
            raise MessageSizeTooLargeError(
                f"a record of {size} bytes exceeds max_request_size ({limit})"
            )
    partitions: dict[str, tuple[list[int], list[int]]] = {}
    for topic in {r.topic for r in records}:
        partitions[topic] = await topic_partitions(producer, topic)
    # (topic, partition) -> the records' positions in ``records``, in order.
    groups: dict[tuple[str, int], list[int]] = {}
    for index, record in enumerate(records):
        known, available = partitions[record.topic]
        target = (record.topic, partition_for(record.key, known, available))
        groups.setdefault(target, []).append(index)
    relative: list[int] = [0] * len(records)
    sends: list[tuple[tuple[str, int], list[int], Any]] = []
    for (topic, partition), indexes in groups.items():
        builder = producer.create_batch()
        members: list[int] = []
        for index in indexes:
            record = records[index]
            meta = builder.append(
                timestamp=None, key=record.key, value=record.value, headers=list(record.headers)
            )
            if meta is None:  # full: send it, go on in a new one
                sends.append(((topic, partition), members, builder))
                builder, members = producer.create_batch(), []
                meta = builder.append(
                    timestamp=None, key=record.key, value=record.value, headers=list(record.headers)
                )
            relative[index] = meta.offset
            members.append(index)
        sends.append(((topic, partition), members, builder))
    futures = []
    for (topic, partition), _, builder in sends:
        builder.close()  # a closed batch does not linger: the sender takes it at once
        futures.append(await producer.send_batch(builder, topic, partition=partition))
    acks = await asyncio.gather(*futures)
    written: list[Written | None] = [None] * len(records)
    for ((topic, partition), members, _), ack in zip(sends, acks, strict=True):
        for index in members:
            written[index] = Written(topic, partition, ack.offset + relative[index])
    return [w for w in written if w is not None]


async def write_with_offsets(
    producer: AIOKafkaProducer,
    records: Sequence[OutRecord],
    offsets: dict[TopicPartition, int],
    group_id: str,
) -> list[Written]:
    """:func:`write_batches`, then ``offsets`` added to the transaction.

    One after the other, not together: while the coordinator adds the
    offsets (a transaction state change) the broker's check that a produce
    belongs to the transaction (KIP-890) answers "concurrent transactions",
    which aiokafka sees as ``NotEnoughReplicasError`` and retries after 100 ms.
    """
    written = await write_batches(producer, records)
    await producer.send_offsets_to_transaction(offsets, group_id)
    return written
