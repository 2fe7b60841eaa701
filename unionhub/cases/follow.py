"""Following one action to its outcome on Kafka: the case state that holds it, or the refusal.

For the CLI, which has no case store: the end offsets of ``cases.state`` and
``router.dlq`` are taken before the action is sent, and what follows them is
read until the case's new state lists the action, or a dead letter refuses it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from core.kafka.clients import committed_consumer
from core.kafka.topics import TopicCatalog
from schemas.caseloop import CaseAction, CaseState


@dataclass(frozen=True)
class Outcome:
    """What became of an action: the new state, a refusal's message, or neither yet."""

    state: CaseState | None = None
    refused: str | None = None


class ActionFollower:
    """Marks where the topics end now, then reads on for one action's outcome."""

    def __init__(self, bootstrap: str, catalog: TopicCatalog) -> None:
        self._catalog = catalog
        self._consumer: AIOKafkaConsumer = committed_consumer(bootstrap)
        self._tps = [
            TopicPartition(catalog.cases_state, p)
            for p in range(catalog.partition_count(catalog.cases_state))
        ] + [TopicPartition(catalog.router_dlq, 0)]

    async def __aenter__(self) -> ActionFollower:
        await self._consumer.start()
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_end(*self._tps)
        for tp in self._tps:
            await self._consumer.position(tp)  # fix the start before anything is sent
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def outcome(self, action: CaseAction, timeout_s: float) -> Outcome:
        """The action's outcome, or an empty one after ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    batch = await self._consumer.getmany(timeout_ms=500)
                    for records in batch.values():
                        for record in records:
                            found = self._judge(record.topic, record.value, action)
                            if found is not None:
                                return found
        except TimeoutError:
            return Outcome()

    def _judge(self, topic: str, value: bytes | None, action: CaseAction) -> Outcome | None:
        if value is None:
            return None
        if topic == self._catalog.router_dlq:
            letter = orjson.loads(value)
            if letter.get("external_id") == action.action_id:
                return Outcome(refused=str(letter.get("error", {}).get("message", "refused")))
            return None
        state = CaseState.model_validate_json(value)
        if state.case_id == action.case_id and any(
            entry.action_id == action.action_id for entry in state.history
        ):
            return Outcome(state=state)
        return None
