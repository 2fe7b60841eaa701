"""``StageContext``: what the parts of one running stage share.

The loop (``stage``), the assignment path (``assignment``), the linger
(``linger``) and the transaction cycle (``transactions``) each do one job on
this shared record; ``lock`` keeps a rebalance, a set-up and a batch's
transactions from interleaving.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from router.processor import Processor, StatefulProcessor
from router.runtime.changelog import StateKeys
from router.runtime.config import StageConfig
from router.runtime.errors import StageConfigError
from router.runtime.partition_state import Partitions
from router.runtime.producers import PartitionProducers
from router.runtime.stats import StageCounters


@dataclass
class StageContext:
    """One stage's wiring, its partitions, its state bookkeeping and its health flags.

    ``state`` is the processor again when the stage is stateful, else None.
    ``changelog_end`` maps a changelog partition to one past our last
    committed write there. ``revoking`` is set while a revocation waits for
    the batch in hand, which then aborts instead of committing.
    """

    config: StageConfig
    processor: Processor | StatefulProcessor
    state: StatefulProcessor | None
    producers: PartitionProducers
    partitions: Partitions = field(default_factory=Partitions)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    counters: StageCounters = field(default_factory=StageCounters)
    state_keys: StateKeys = field(default_factory=StateKeys)
    changelog_end: dict[int, int] = field(default_factory=dict)
    changelog_partitions: list[int] = field(default_factory=list)
    consumer: AIOKafkaConsumer | None = None
    joined: bool = False
    revoking: bool = False
    broker_ok: bool = True

    def require_consumer(self) -> AIOKafkaConsumer:
        """The stage's consumer; raises :class:`StageConfigError` before :meth:`run` made it."""
        if self.consumer is None:
            raise StageConfigError(f"stage {self.config.name} is not running")
        return self.consumer
