"""The source contract (start, stop, health) and the polling loop every connector shares.

Two levels, as quix-streams' sources: :class:`Source` is the lifecycle every
connector type has; :class:`PollingSource` adds the exactly-once loop (own
transactional writer, resume from the committed checkpoint, poll, commit,
re-read the checkpoint after a failed transaction). Channel modules derive
from :class:`connectors.http.HttpPollingSource`.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog

from connectors.checkpoints import read_checkpoints
from connectors.config import ConnectorConfig, SinkConfig
from connectors.errors import IntakeCommitError, ProducerFencedError
from connectors.intake import Batch, IntakeWriter
from connectors.oversize import fit_messages
from connectors.retry import RetryPolicy
from core.errors import ConfigError, UnionhubError
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.raw import utc_now


class SourceState(StrEnum):
    """Lifecycle states reported by :meth:`Source.health`."""

    CREATED = "CREATED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class SourceHealth:
    """A snapshot of a source's state, for the admin API and the runner."""

    name: str
    channel: str
    state: SourceState
    last_success_at: datetime | None
    last_error: str | None
    records_written: int
    dead_letters_written: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceContext:
    """What a source needs from the process: Kafka, topic names, retry and timing knobs."""

    bootstrap: str
    namespace: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    transaction_timeout_s: float = 30.0
    http_timeout_s: float = 30.0
    error_pause_s: float = 1.0
    breaker_cooldown_s: float = 15.0  # first open period of a per-endpoint circuit breaker

    @property
    def catalog(self) -> TopicCatalog:
        """The topic catalogue of this namespace."""
        return TopicCatalog(self.namespace)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SourceContext:
        """The context for ``settings`` (namespace, broker)."""
        return cls(bootstrap=settings.kafka_bootstrap, namespace=settings.namespace, **overrides)


class Source(ABC):
    """A connector instance: ``start`` launches it, ``stop`` ends it, ``health`` reports.

    Sources and reply sinks (:mod:`connectors.sinks`) share this lifecycle.
    """

    config: ConnectorConfig | SinkConfig

    def __init__(self, config: ConnectorConfig | SinkConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.log = structlog.get_logger(__name__).bind(
            connector=config.name, channel=str(config.channel)
        )
        self._state = SourceState.CREATED
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_success_at: datetime | None = None
        self._last_error: str | None = None

    @property
    def name(self) -> str:
        """The connector's unique name."""
        return self.config.name

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping.is_set()

    async def start(self) -> None:
        """Launch the source as an asyncio task; returns at once."""
        if self._task is not None:
            return
        self._state = SourceState.RUNNING
        self._task = asyncio.create_task(self._main(), name=f"source-{self.name}")

    async def stop(self, grace_s: float = 8.0) -> None:
        """Ask the source to stop; cancel it if it has not within ``grace_s`` seconds."""
        self._stopping.set()
        if self._task is None:
            self._state = SourceState.STOPPED
            return
        if self._state is SourceState.RUNNING:
            self._state = SourceState.STOPPING
        done, _ = await asyncio.wait({self._task}, timeout=grace_s)
        if not done:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self) -> None:
        """Wait until the source's task has ended (stopped or failed)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    def health(self) -> SourceHealth:
        """The current lifecycle state and the last success and error."""
        return SourceHealth(
            name=self.name,
            channel=str(self.config.channel),
            state=self._state,
            last_success_at=self._last_success_at,
            last_error=self._last_error,
            records_written=0,
            dead_letters_written=0,
        )

    async def _main(self) -> None:
        try:
            await self.run()
        except (ConfigError, ProducerFencedError) as exc:
            self._fail(exc)
            return
        except asyncio.CancelledError:
            self._state = SourceState.STOPPED
            raise
        except Exception as exc:
            self._fail(exc)
            self.log.exception("connector crashed")
            return
        self._state = SourceState.STOPPED

    def _fail(self, exc: BaseException) -> None:
        self._state = SourceState.FAILED
        self._last_error = f"{type(exc).__name__}: {exc}"
        self.log.error("connector failed", error=self._last_error)

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stop is requested; True when stop was requested."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0))
        return self.stopping

    @abstractmethod
    async def run(self) -> None:
        """The source's body; must return soon after :attr:`stopping` becomes true."""


class PollingSource(Source):
    """A source that polls, committing each step's records and checkpoint in one transaction."""

    config: ConnectorConfig

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.writer = IntakeWriter(
            context.bootstrap,
            context.catalog,
            context.catalog.connector_transactional_id(config.name),
            transaction_timeout_s=context.transaction_timeout_s,
        )

    def health(self) -> SourceHealth:
        """As :meth:`Source.health`, with what the writer committed."""
        base = super().health()
        counters = self.writer.counters
        return replace(
            base,
            records_written=counters.records,
            dead_letters_written=counters.dead_letters,
            detail={"transactions": counters.transactions, "failed": counters.failures},
        )

    async def run(self) -> None:
        """Resume from the committed checkpoint, then poll until stopped."""
        try:
            if not await self._resume():
                return
            await self.open()
            try:
                while not self.stopping:
                    pause = self.config.poll_interval_s
                    try:
                        await self.poll_once()
                        self._last_success_at = utc_now()
                        self._last_error = None
                    except IntakeCommitError as exc:
                        # The outcome is whatever Kafka committed: resume from there.
                        self._note_error(exc)
                        if not await self._resume():
                            return
                        pause = self.context.error_pause_s
                    except (ConfigError, ProducerFencedError):
                        raise
                    except UnionhubError as exc:
                        # Transient trouble is retried soon; a contract violation waits
                        # for the next regular poll rather than hammering the upstream.
                        self._note_error(exc)
                        if exc.retriable:
                            pause = min(pause, self.context.error_pause_s)
                    if await self.sleep(pause):
                        break
            finally:
                await self.close()
        finally:
            await self.writer.close(timeout_s=min(2.0, self.context.transaction_timeout_s))

    async def _resume(self) -> bool:
        """(Re)start the writer, then load the committed checkpoints; False if stopped first.

        The writer first: its initialisation fences this connector's previous
        producer and resolves a transaction it left open, so the checkpoints
        read afterwards are exactly what was committed. Kafka being away is
        retried until it answers or the source is stopped.
        """
        while not self.stopping:
            try:
                await self.writer.start()
                await self.restore()
            except (ConfigError, ProducerFencedError):
                raise
            except UnionhubError as exc:
                if not exc.retriable:
                    raise
                self._note_error(exc)
                await self.sleep(self.context.error_pause_s)
            else:
                return True
        return False

    def _note_error(self, exc: BaseException) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"
        self.log.warning("poll failed", error=self._last_error)

    async def restore(self) -> None:
        """Load the committed checkpoints of this connector into memory."""
        states = await read_checkpoints(
            self.context.bootstrap, self.context.catalog.checkpoints, self.name
        )
        self.load_state(states)

    async def commit(self, batch: Batch) -> None:
        """Commit one step's records, dead letters and checkpoints atomically.

        A record or dead letter too large for one Kafka message is committed as
        a bounded ``record_too_large`` dead letter instead (:mod:`connectors.oversize`):
        sent as is, it would fail this transaction on every poll.
        """
        records, letters = fit_messages(batch.records, batch.dead_letters)
        await self.writer.commit(Batch(records, letters, batch.checkpoints))

    async def open(self) -> None:
        """Acquire resources (HTTP session) before the first poll."""

    async def close(self) -> None:
        """Release what :meth:`open` acquired."""

    @abstractmethod
    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Replace in-memory state by the committed checkpoints (key -> state)."""

    @abstractmethod
    async def poll_once(self) -> None:
        """One poll: fetch what is new and commit it (possibly in several steps)."""
