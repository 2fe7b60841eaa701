"""Linger: hold each partition's fetched records until they make a batch worth a transaction.

A partition's records wait until ``linger_ms`` has passed since the first of
them was fetched, or ``max_batch_records`` are held, or the stage stops; so a
trickle still makes few, large transactions. Without linger, what is fetched
is due at once.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeAlias

from aiokafka import TopicPartition

from core.kafka.reading import Record
from router.runtime.partition_state import Partitions

# Fetched records per input partition, in offset order.
Batches: TypeAlias = dict[TopicPartition, list[Record]]


class Linger:
    """Holds fetched records in each partition's ``PartitionState`` until they are due."""

    def __init__(
        self,
        partitions: Partitions,
        *,
        linger_ms: int,
        max_records: int,
        poll_timeout_ms: int,
    ) -> None:
        self._partitions = partitions
        self._linger_s = linger_ms / 1000
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms

    def poll_timeout_ms(self, now: float) -> int:
        """How long the next fetch may wait: no longer than until the first held batch is due."""
        since = [e.held_since for e in self._partitions.values() if e.held_since is not None]
        if not since:
            return self._poll_timeout_ms
        due_in = min(since) + self._linger_s - now
        return max(0, min(self._poll_timeout_ms, int(due_in * 1000)))

    def take_due(
        self, fetched: Batches, now: float, *, assignment: Collection[TopicPartition], flush: bool
    ) -> Batches:
        """Hold ``fetched`` and hand out the batches that are due, per partition.

        Records of a partition that is pending or no longer in ``assignment``
        are dropped: it reads anew from its committed offset. ``flush`` makes
        everything held due (the stage is stopping).
        """
        if not self._linger_s and not self._partitions.holding():
            return fetched
        for tp, records in fetched.items():
            self._partitions.entry(tp).hold(records, now)
        due: Batches = {}
        for tp, entry in self._partitions.items():
            if entry.held_since is None:
                continue
            if entry.pending or tp not in assignment:
                entry.release()
            elif (
                len(entry.held) >= self._max_records
                or now - entry.held_since >= self._linger_s
                or flush
            ):
                due[tp] = entry.held
                entry.release()
        return due
