"""Reading connector checkpoints back from the compacted checkpoints topic.

Checkpoints are written by :class:`connectors.intake.IntakeWriter` inside the
same transaction as the records they cover. Reading the topic with
read_committed up to its last stable offset therefore yields exactly the state
matching what landed in ``intake.raw.*``. Keys are the connector name, or
``<connector>/<station_id>`` for per-station state.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from core.errors import KafkaUnavailableError
from core.kafka.clients import committed_consumer
from core.kafka.reading import fetch_to_end

CHECKPOINT_SCHEMA = "unionhub.checkpoint/1"


def checkpoint_value(state: dict[str, Any]) -> bytes:
    """Serialized checkpoint value."""
    return orjson.dumps({"schema": CHECKPOINT_SCHEMA, "state": state})


async def read_checkpoints(bootstrap: str, topic: str, connector: str) -> dict[str, dict[str, Any]]:
    """Latest committed state of ``connector`` and of its ``<connector>/...`` sub-keys.

    Reads the whole (compacted, single-partition) topic to its last stable
    offset; call it after the connector's transactional producer has been
    initialised, so a transaction a crashed predecessor left open is resolved.
    """
    try:
        return await _read(bootstrap, topic, connector)
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"reading checkpoints of {connector} failed: {type(exc).__name__}"
        ) from exc


async def _read(bootstrap: str, topic: str, connector: str) -> dict[str, dict[str, Any]]:
    consumer = committed_consumer(bootstrap)
    await consumer.start()
    states: dict[str, dict[str, Any]] = {}
    try:
        # The catalogue declares the checkpoints topic with one partition.
        tps = [TopicPartition(topic, 0)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        prefix = connector + "/"
        async for batch in fetch_to_end(consumer, ends):
            for message in batch:
                key = message.key.decode() if message.key else ""
                if key != connector and not key.startswith(prefix):
                    continue
                if message.value is None:
                    states.pop(key, None)
                    continue
                states[key] = orjson.loads(message.value)["state"]
    finally:
        await consumer.stop()
    return states
