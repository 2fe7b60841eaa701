"""The sink that keeps the case store in step with Kafka, exactly once.

It reads ``cases.state``, ``router.dlq``, every ``dispatch.*`` topic,
``alerts.risk`` and ``alerts.sla`` (read_committed, no consumer group), and
writes each fetched batch and the offsets after it in one store transaction;
on start it seeks every partition to the offset the store holds, so a crash
between two batches neither loses nor repeats a row. Readers that wait for a
change (the case API after posting an action) await
:meth:`CaseStoreSink.wait_for`, woken after every applied batch; listeners
(the board's live feed) get each batch's changes once they are committed, so
whatever they announce can already be read from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core.kafka.clients import committed_consumer
from core.kafka.reading import Record
from core.kafka.topics import TopicCatalog
from review.store.base import CaseStore, Change, EventRow, Offsets, Refusal, RiskRow, SlaRow
from schemas.alert import Alert
from schemas.caseloop import CaseState, SlaAlert
from schemas.dispatch import DispatchEvent

log = structlog.get_logger(__name__)

ACTION_REFUSAL_KINDS = ("action_",)  # router.dlq kinds of refused case actions

Listener = Callable[[list[Change]], None]


class CaseStoreSink:
    """Materialises cases, dispatch events, alerts and action refusals into a :class:`CaseStore`.

    ``meta`` (facts such as the loop clock the daemon runs) is recorded in the
    store when the sink starts, for readers in other processes.
    """

    def __init__(
        self,
        bootstrap: str,
        catalog: TopicCatalog,
        store: CaseStore,
        *,
        client_id: str,
        meta: dict[str, str] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._catalog = catalog
        self._store = store
        self._client_id = client_id
        self._meta = dict(meta or {})
        self._changed = asyncio.Condition()
        self._listeners: list[Listener] = []
        self._dispatch_topics = frozenset(catalog.dispatch_topics())
        self.applied = 0

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every batch's changes after the store committed them."""
        self._listeners.append(listener)

    def topics(self) -> list[str]:
        """Every topic the sink materialises."""
        c = self._catalog
        return [c.cases_state, c.router_dlq, *c.dispatch_topics(), c.alerts, c.sla_alerts]

    async def run(self, stop: asyncio.Event) -> None:
        """Apply batches until ``stop`` is set (Kafka trouble is retried)."""
        for key, value in self._meta.items():
            self._store.put_meta(key, value)
        while not stop.is_set():
            consumer = committed_consumer(self._bootstrap, client_id=self._client_id)
            try:
                await consumer.start()
                await self._assign(consumer)
                while not stop.is_set():
                    batch = await consumer.getmany(timeout_ms=500, max_records=2000)
                    if batch:
                        await self._apply(consumer, batch)
            except KafkaError as exc:
                log.warning("case store sink: Kafka trouble; retrying", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
            finally:
                await consumer.stop()

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Whether ``condition`` holds within ``timeout_s`` (checked after every batch)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(condition), timeout_s)
            except TimeoutError:
                return condition()
        return True

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        tps = [
            TopicPartition(topic, p)
            for topic in self.topics()
            for p in range(self._catalog.partition_count(topic))
        ]
        consumer.assign(tps)
        held = self._store.offsets()
        for tp in tps:
            start = held.get((tp.topic, tp.partition))
            if start is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, start)

    async def _apply(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[Record]]
    ) -> None:
        changes: list[Change] = []
        offsets: Offsets = {}
        for tp, records in batch.items():
            for record in records:
                change = self._change(record)
                if change is not None:
                    changes.append(change)
            offsets[(tp.topic, tp.partition)] = await consumer.position(tp)
        self._store.apply(changes, offsets)
        self.applied += len(changes)
        async with self._changed:
            self._changed.notify_all()
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # a listener's failure must not stop the store
                log.exception("case store sink: a listener failed")

    def _change(self, record: Record) -> Change | None:
        try:
            return self._decode(record)
        except ValidationError:
            log.warning(
                "case store sink: unreadable record skipped",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            return None

    def _decode(self, record: Record) -> Change | None:
        topic = record.topic
        if record.value is not None and topic in self._dispatch_topics:
            event = DispatchEvent.model_validate_json(record.value)
            return Change(event=EventRow.of(event, topic))
        if record.value is not None and topic == self._catalog.alerts:
            return Change(risk=RiskRow.of(Alert.model_validate_json(record.value)))
        if record.value is not None and topic == self._catalog.sla_alerts:
            return Change(sla=SlaRow.of(SlaAlert.model_validate_json(record.value)))
        if topic == self._catalog.cases_state:
            case_id = (record.key or b"").decode("utf-8", "replace")
            if record.value is None:
                return Change(case_id=case_id)
            state = CaseState.model_validate_json(record.value)
            return Change(case_id=case_id, state=state, value=record.value)
        if topic == self._catalog.router_dlq:
            return _refusal(record.value)
        return None


def _refusal(value: bytes | None) -> Change | None:
    """The action refusal a router dead letter records, if it is one."""
    try:
        letter = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(letter, dict) or not isinstance(letter.get("error"), dict):
        return None
    error: dict[str, object] = letter["error"]
    kind = error.get("kind")
    action_id = letter.get("external_id")
    if not isinstance(kind, str) or not kind.startswith(ACTION_REFUSAL_KINDS):
        return None
    if not isinstance(action_id, str):
        return None
    try:
        case_id = orjson.loads(letter.get("raw") or "{}").get("case_id")
    except (orjson.JSONDecodeError, AttributeError):
        case_id = None
    message = str(error.get("message", ""))
    case = case_id if isinstance(case_id, str) else None
    return Change(refusal=Refusal(action_id, case, kind, message))
