"""Errors of the connector config store."""

from __future__ import annotations

from core.errors import UnionhubError


class ConfigStoreError(UnionhubError):
    """The config store could not do what was asked."""


class ConfigTopicMissingError(ConfigStoreError):
    """The compacted config topic does not exist; ``unionhub topics ensure`` creates it."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"config topic {topic} does not exist; run `unionhub topics ensure` first")
        self.topic = topic


class InvalidConnectorNameError(ConfigStoreError):
    """A connector name is empty, too long or has characters outside ``[A-Za-z0-9_.-]``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid connector name: {reason}")
        self.reason = reason


class InvalidConnectorConfigError(ConfigStoreError):
    """The validation hook rejected a config; ``reason`` never quotes the values."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"connector {name}: invalid config: {reason}")
        self.name = name
        self.reason = reason


class UnknownConnectorError(ConfigStoreError):
    """No connector of that name is stored (never created, or deleted)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no connector named {name}")
        self.name = name


class ConfigWriteError(ConfigStoreError):
    """A write to the config topic failed; the broker may come back."""

    retriable = True
