"""The registry of connector types, by channel name.

Each channel module registers its source class with :func:`register`, and
each reply sink module (:mod:`connectors.sinks`) its sink class with
:func:`register_sink`; the runner and the daemon build them from configs with
:func:`build_source` and :func:`build_sink` without knowing the channels.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from connectors.base import PollingSource, SourceContext
from connectors.config import CONFIG_MODELS, ConnectorConfig, SinkConfig, reply_refusal
from core.errors import ConfigError
from schemas.channels import Channel

if TYPE_CHECKING:
    from connectors.sinks.base import ReplySink

S = TypeVar("S", bound=type[PollingSource])
K = TypeVar("K", bound="type[ReplySink]")

_SOURCES: dict[Channel, type[PollingSource]] = {}
_SINKS: dict[Channel, type[ReplySink]] = {}
_CHANNEL_MODULES = {channel: f"connectors.channels.{channel.value}" for channel in Channel}
_SINK_MODULES = {channel: f"connectors.sinks.{channel.value}" for channel in Channel}


def register(channel: Channel) -> Callable[[S], S]:
    """Class decorator: ``cls`` is the source type of ``channel``."""

    def decorate(cls: S) -> S:
        _SOURCES[channel] = cls
        return cls

    return decorate


def source_type(channel: Channel) -> type[PollingSource]:
    """The registered source class of ``channel`` (importing its module on first use)."""
    if channel not in _SOURCES:
        importlib.import_module(_CHANNEL_MODULES[channel])
    return _SOURCES[channel]


def config_type(channel: Channel) -> type[ConnectorConfig]:
    """The config model of ``channel``."""
    return CONFIG_MODELS[channel]


def build_source(config: ConnectorConfig, context: SourceContext) -> PollingSource:
    """A new source instance for ``config``."""
    cls = source_type(config.channel)
    if not isinstance(config, CONFIG_MODELS[config.channel]):
        raise ConfigError("channel", f"config type does not match channel {config.channel}")
    return cls(config, context)


def register_sink(channel: Channel) -> Callable[[K], K]:
    """Class decorator: ``cls`` is the reply sink type of ``channel``."""

    def decorate(cls: K) -> K:
        _SINKS[channel] = cls
        return cls

    return decorate


def build_sink(config: SinkConfig, upstream: ConnectorConfig, context: SourceContext) -> ReplySink:
    """A new reply sink for ``config`` over ``upstream``, the source connector it names.

    Raises :class:`ConfigError` when that connector cannot reply (no reply
    credentials, a channel without replies) or is of another channel.
    """
    why = reply_refusal(upstream)
    if why is not None:
        raise ConfigError("connector", f"{why}: no sink")
    if config.channel is not None and config.channel != upstream.channel:
        raise ConfigError("channel", f"differs from connector {upstream.name}'s")
    if upstream.channel not in _SINKS:
        importlib.import_module(_SINK_MODULES[upstream.channel])
    return _SINKS[upstream.channel](config, upstream, context)
