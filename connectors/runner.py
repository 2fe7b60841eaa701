"""Run a set of configured connectors as asyncio tasks until asked to stop.

Used by ``unionhub intake run`` and, later, by the daemon. Each connector
is independent: one failing (bad credentials) does not stop the others.
Stopping lets each connector finish or abandon its open transaction and
returns within the grace period; an abandoned transaction is aborted by the
broker or by the next start of the same connector, which then resumes from
the last committed checkpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog

from connectors.base import PollingSource, SourceContext, SourceHealth, SourceState
from connectors.config import ConnectorConfig, parse_config
from connectors.configfile import read_config_file
from connectors.registry import build_source
from connectors.secrets import SecretResolver
from core.errors import ConfigError
from core.logging import masker

log = structlog.get_logger(__name__)


def load_config_file(path: Path, resolver: SecretResolver) -> ConnectorConfig:
    """The connector config in YAML file ``path`` (secret references resolved).

    Raises :class:`ConfigError` for an unreadable, oversized, malformed or
    too deeply nested file, a key given twice, or an invalid config.
    """
    return parse_config(read_config_file(path), resolver)


class ConnectorRunner:
    """Starts, watches and stops a set of connectors."""

    def __init__(self, context: SourceContext, configs: Iterable[ConnectorConfig]) -> None:
        configs = list(configs)
        names = [c.name for c in configs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError("name", f"connector names must be unique: {', '.join(duplicates)}")
        for config in configs:
            for secret in config.secrets():
                masker().add_secret(secret)
        self.sources: list[PollingSource] = [build_source(c, context) for c in configs]

    async def start(self) -> None:
        """Launch every connector."""
        for source in self.sources:
            await source.start()
        log.info("connectors started", connectors=[s.name for s in self.sources])

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop every connector, together, within about ``grace_s`` seconds."""
        await asyncio.gather(*(s.stop(grace_s) for s in self.sources))
        log.info("connectors stopped")

    def health(self) -> list[SourceHealth]:
        """Health of every connector."""
        return [s.health() for s in self.sources]

    async def run_until(self, stop: asyncio.Event, grace_s: float = 5.0) -> int:
        """Run until ``stop`` is set or every connector ended; 1 if any failed, else 0."""
        await self.start()
        waiters = [asyncio.ensure_future(s.wait()) for s in self.sources]
        stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        all_done: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*waiters))
        try:
            await asyncio.wait({stopper, all_done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            await self.stop(grace_s)
            all_done.cancel()
        for health in self.health():
            log.info(
                "connector summary",
                connector=health.name,
                state=str(health.state),
                records=health.records_written,
                dead_letters=health.dead_letters_written,
                last_error=health.last_error,
            )
        return 1 if any(h.state is SourceState.FAILED for h in self.health()) else 0
