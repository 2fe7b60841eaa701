"""The registry of connector types, by channel name.

Each channel module registers its source class with :func:`register`; the
runner builds sources from configs with :func:`build_source` without knowing
the channels.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from connectors.base import PollingSource, SourceContext
from connectors.config import CONFIG_MODELS, ConnectorConfig
from core.errors import ConfigError
from schemas.channels import Channel

S = TypeVar("S", bound=type[PollingSource])

_SOURCES: dict[Channel, type[PollingSource]] = {}
_CHANNEL_MODULES = {channel: f"connectors.channels.{channel.value}" for channel in Channel}


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
