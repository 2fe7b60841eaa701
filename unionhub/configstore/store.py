"""``ConfigStore``: connector configs kept in a compacted Kafka topic.

The topic is the source of truth, as in Kafka Connect: every daemon instance
folds the same single partition in the same order, so all see the same
configs, and a restarted instance reads them all back.

Writes are transactional. A change that takes two records (creating a paused
connector, deleting one) is one transaction, so read_committed readers see
both records or neither. Each store has its own transactional id, so two
instances writing at once never fence each other; the topic's order decides
which write is last.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core.errors import ConfigError
from core.kafka.clients import admin_client, committed_consumer, transactional_producer
from core.kafka.reading import Record, fetch_to_end
from core.kafka.topics import TopicCatalog
from core.logging import masker
from core.settings import Settings
from unionhub.configstore.errors import (
    ConfigStoreError,
    ConfigTopicMissingError,
    ConfigWriteError,
    InvalidConnectorConfigError,
    UnknownConnectorError,
)
from unionhub.configstore.records import (
    ConfigChange,
    ConfigState,
    RejectedRecord,
    StoredAccess,
    StoredConnector,
    TargetState,
    access_key,
    check_name,
    config_key,
    encode_access,
    encode_config,
    encode_target_state,
    target_state_key,
)

log = structlog.get_logger(__name__)

Validator = Callable[[dict[str, Any]], object]
"""Checks a config's shape; raises (ValueError, pydantic ValidationError, ConfigError) if bad."""


class ConfigStore:
    """Put, delete, pause and read connector configs in the config topic.

    Use as ``async with ConfigStore(...) as store``. ``validate`` checks each
    config before it is written; ``start`` waits up to ``topic_wait_s`` for the
    topic to appear (just created by ``topics ensure``). Reads see every write
    committed before they were called (:meth:`snapshot` reads to the end of the
    topic first), including other instances' writes. ``instance_id`` names
    this store's transactional id; give a stable one per daemon instance so a
    restart fences its predecessor's unfinished writes (a random one is used
    when none is given).
    """

    def __init__(
        self,
        bootstrap: str,
        catalog: TopicCatalog,
        *,
        validate: Validator | None = None,
        instance_id: str | None = None,
        topic_wait_s: float = 10.0,
    ) -> None:
        self._bootstrap = bootstrap
        self.topic = catalog.connector_configs
        self._tp = TopicPartition(self.topic, 0)
        self._validate = validate
        self._topic_wait_s = topic_wait_s
        instance = instance_id or uuid.uuid4().hex[:12]
        self._transactional_id = catalog.configstore_transactional_id(instance)
        self._client_id = catalog.client_id(f"configstore.{instance}")
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._state = ConfigState()
        self._read_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._watchers: set[ConfigWatch] = set()
        self._reported_rejects = 0
        self._written_to = 0  # offset after this store's last committed write

    @classmethod
    def for_settings(cls, settings: Settings, *, validate: Validator | None = None) -> Self:
        """The store of ``settings``' broker and namespace."""
        return cls(settings.kafka_bootstrap, TopicCatalog(settings.namespace), validate=validate)

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        """Connect; raises :class:`ConfigTopicMissingError` if the topic is not there."""
        await self._wait_for_topic()
        producer = transactional_producer(
            self._bootstrap, self._transactional_id, client_id=self._client_id
        )
        # No group: every instance reads the whole partition itself.
        consumer = committed_consumer(self._bootstrap, client_id=self._client_id, group_id=None)
        try:
            await producer.start()
            await consumer.start()
        except KafkaError as exc:
            await producer.stop()
            await consumer.stop()
            raise ConfigWriteError(f"config store could not connect: {exc}") from exc
        consumer.assign([self._tp])
        await consumer.seek_to_beginning(self._tp)
        self._producer, self._consumer = producer, consumer

    async def _wait_for_topic(self) -> None:
        # A topic created a moment ago (``topics ensure`` just ran) may take a
        # little while to appear in the metadata the broker serves.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._topic_wait_s
        async with admin_client(self._bootstrap) as admin:
            while self.topic not in set(await admin.list_topics()):
                if loop.time() > deadline:
                    raise ConfigTopicMissingError(self.topic)
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Close the clients; open watches end."""
        for watch in list(self._watchers):
            watch.close()
        async with self._read_lock:  # not under a watch's poll
            producer, consumer = self._producer, self._consumer
            self._producer = self._consumer = None
            if consumer is not None:
                await consumer.stop()
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- writes ------------------------------------------------------------
    async def put(
        self, name: str, config: dict[str, Any], *, target_state: TargetState | None = None
    ) -> None:
        """Create or replace ``name``'s config (validated first), optionally its target state.

        Secret references (``${env:NAME}``, ``${file:PATH}``) are stored as given,
        never resolved. A new connector without ``target_state`` runs.
        """
        check_name(name)
        self._check_config(name, config)
        now = datetime.now(UTC)
        records: list[tuple[bytes, bytes | None]] = []
        if target_state is not None:
            # Before the config, so a new connector appears already in its target state.
            records.append((target_state_key(name), encode_target_state(target_state, now)))
        records.append((config_key(name), encode_config(config, now)))
        await self._write(records)
        log.info("configstore.put", connector=name, target_state=target_state)

    async def delete(self, name: str) -> None:
        """Delete ``name`` (tombstones of its config and target state).

        Raises :class:`UnknownConnectorError` if no such connector is stored.
        """
        await self._require(name)
        # Config first: a watcher sees "deleted", never a resume of a paused connector.
        await self._write([(config_key(name), None), (target_state_key(name), None)])
        log.info("configstore.delete", connector=name)

    async def set_target_state(self, name: str, state: TargetState | str) -> None:
        """Pause or resume ``name``; raises :class:`UnknownConnectorError` if not stored."""
        try:
            target = TargetState(state)
        except ValueError:
            raise ConfigError("target_state", "must be RUNNING or PAUSED") from None
        await self._require(name)
        value = encode_target_state(target, datetime.now(UTC))
        await self._write([(target_state_key(name), value)])
        log.info("configstore.target_state", connector=name, target_state=target)

    async def put_access(self, actor: str, token: str) -> None:
        """Set ``actor``'s bearer token (a ``${env:}``/``${file:}`` reference, or a literal)."""
        await self._write([(access_key(actor), encode_access(token, datetime.now(UTC)))])
        log.info("configstore.access_set", actor=actor)

    async def delete_access(self, actor: str) -> None:
        """Remove ``actor``'s token: its calls are refused from then on."""
        await self._write([(access_key(actor), None)])
        log.info("configstore.access_removed", actor=actor)

    def access(self) -> dict[str, StoredAccess]:
        """The access tokens as of the last read (a running watch keeps them current)."""
        return dict(self._state.access)

    async def access_snapshot(self) -> dict[str, StoredAccess]:
        """The access tokens after reading the topic to its current end."""
        await self.snapshot()
        return self.access()

    # -- reads -------------------------------------------------------------
    async def snapshot(self) -> dict[str, StoredConnector]:
        """Every stored connector, after reading the topic to its current end."""
        async with self._read_lock:
            consumer = self._running_consumer()
            # The commit markers follow the commit's reply: the end offset of a
            # read_committed reader can lag our own last write for a moment.
            end = max((await consumer.end_offsets([self._tp]))[self._tp], self._written_to)
            async for batch in fetch_to_end(consumer, {self._tp: end}):
                self._fold(batch)
            # Copies: a caller changing a config must not change the store's state.
            return copy.deepcopy(self._state.connectors)

    async def get(self, name: str) -> StoredConnector | None:
        """``name``'s stored state after reading to the end, None if it is not stored."""
        return (await self.snapshot()).get(check_name(name))

    @property
    def rejected(self) -> list[RejectedRecord]:
        """Records read so far that could not be understood (logged as they were met)."""
        return list(self._state.rejected)

    def watch(self, poll_timeout_s: float = 0.5) -> ConfigWatch:
        """An async iterator of every change read after this call, in topic order.

        The daemon takes a :meth:`snapshot`, starts what it holds, then applies
        what the watch yields. A change appears within about ``poll_timeout_s``
        of its commit while someone iterates. ``close()`` the watch (or stop the
        store) to end it.
        """
        watch = ConfigWatch(self, poll_timeout_s)
        self._watchers.add(watch)
        return watch

    # -- internals -----------------------------------------------------------
    def _check_config(self, name: str, config: dict[str, Any]) -> None:
        if not isinstance(config, dict):
            raise InvalidConnectorConfigError(name, "a config must be a JSON object")
        if config.get("name", name) != name:
            raise InvalidConnectorConfigError(name, "the config's name differs from its key")
        if self._validate is None:
            return
        try:
            self._validate(config)
        except ValidationError as exc:
            # Locations and messages only: the input values may hold secrets.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise InvalidConnectorConfigError(name, problems) from None
        except (ValueError, TypeError, ConfigError) as exc:
            raise InvalidConnectorConfigError(name, str(masker().mask(str(exc)))) from None

    async def _require(self, name: str) -> StoredConnector:
        connector = await self.get(name)
        if connector is None:
            raise UnknownConnectorError(name)
        return connector

    async def _write(self, records: list[tuple[bytes, bytes | None]]) -> None:
        producer = self._producer
        if producer is None:
            raise ConfigStoreError("config store is not started")
        async with self._write_lock:
            try:
                async with producer.transaction():
                    sent = [
                        await producer.send(self.topic, value=value, key=key, partition=0)
                        for key, value in records
                    ]
                last = max([(await future).offset for future in sent])
            except KafkaError as exc:
                raise ConfigWriteError(f"writing to {self.topic} failed: {exc}") from exc
            self._written_to = max(self._written_to, last + 1)

    def _running_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise ConfigStoreError("config store is not started")
        return self._consumer

    def _fold(self, records: list[Record]) -> None:
        """Fold fetched records into the state and hand their changes to the watches."""
        for record in records:
            change = self._state.apply(record.key, record.value, record.offset)
            if change is not None:
                for watch in self._watchers:
                    watch.push(change)
        for reject in self._state.rejected[self._reported_rejects :]:
            log.warning(
                "configstore.record_rejected",
                topic=self.topic,
                offset=reject.offset,
                reason=reject.reason,
            )
        self._reported_rejects = len(self._state.rejected)

    async def _poll_for_watch(self, timeout_s: float) -> None:
        async with self._read_lock:
            if self._consumer is None:  # stopped meanwhile; the watch is closed
                return
            batch = await self._consumer.getmany(self._tp, timeout_ms=int(timeout_s * 1000))
            self._fold(batch.get(self._tp, []))

    def _forget(self, watch: ConfigWatch) -> None:
        self._watchers.discard(watch)


class ConfigWatch:
    """Changes of the config topic read after the watch was made (see ``ConfigStore.watch``)."""

    def __init__(self, store: ConfigStore, poll_timeout_s: float) -> None:
        self._store = store
        self._poll_timeout_s = poll_timeout_s
        self._pending: asyncio.Queue[ConfigChange] = asyncio.Queue()
        self._closed = False

    def push(self, change: ConfigChange) -> None:
        """Queue a change read by the store (by any reader: a snapshot or a watch)."""
        if not self._closed:
            self._pending.put_nowait(copy.deepcopy(change))

    def close(self) -> None:
        """End the iteration once the changes already queued have been yielded."""
        self._closed = True
        self._store._forget(self)

    def __aiter__(self) -> AsyncIterator[ConfigChange]:
        return self

    async def __anext__(self) -> ConfigChange:
        while self._pending.empty():
            if self._closed:
                raise StopAsyncIteration
            await self._store._poll_for_watch(self._poll_timeout_s)
        return self._pending.get_nowait()
