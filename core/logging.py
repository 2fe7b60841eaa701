"""structlog set-up: JSON lines for daemons, readable lines on a terminal.

Every event passes :class:`PiiMasker` last before rendering, so ID numbers,
phone numbers and the process's secrets never reach a log line in clear,
whatever a caller put into the event.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import orjson
import structlog

from core.pii import mask_numbers
from core.settings import Settings


class PiiMasker:
    """structlog processor masking personal numbers and known secrets in every value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        """Mask ``secret`` from now on (e.g. a connector's credentials once loaded)."""
        if len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def mask(self, value: Any) -> Any:
        """Masked copy of ``value``; strings inside containers are masked too."""
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, "***")
            return mask_numbers(value)
        if isinstance(value, dict):
            return {k: self.mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self.mask(v) for v in value]
        if isinstance(value, BaseException):
            return self.mask(f"{type(value).__name__}: {value}")
        return value

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        return {key: self.mask(value) for key, value in event.items()}


_masker = PiiMasker()


def masker() -> PiiMasker:
    """The process-wide masker, so components can register secrets they load."""
    return _masker


def _orjson_dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def configure_logging(settings: Settings) -> None:
    """Configure structlog and stdlib logging once, from ``settings``."""
    for secret in settings.secret_values():
        _masker.add_secret(secret)
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    level = getattr(logging, settings.log_level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _masker,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Library loggers (aiokafka, aiohttp) go through the same masker and renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _masker,
                renderer,
            ],
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(level, logging.WARNING))
