"""``UNIONHUB_SETTINGS_FILE``: the same settings as the environment, from a YAML file.

A federation keeps its cluster's settings (bootstrap, security protocol, CA
file, SASL user...) in one file instead of a dozen variables. Keys are the
settings' names, either as fields (``kafka_sasl_username``) or as variables
(``UNIONHUB_KAFKA_SASL_USERNAME``); a variable set in the environment wins over
the file. An unknown key, a file that cannot be read or that is not a mapping
fails at start-up naming ``UNIONHUB_SETTINGS_FILE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from core.errors import ConfigError

SETTINGS_FILE = "UNIONHUB_SETTINGS_FILE"
_PREFIX = "UNIONHUB_"
MAX_SETTINGS_FILE_BYTES = 1 << 20


class SettingsFileSource(PydanticBaseSettingsSource):
    """A pydantic-settings source reading the YAML file ``UNIONHUB_SETTINGS_FILE`` names."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._values: dict[str, Any] | None = None

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The file's value of ``field_name`` (pydantic-settings' per-field hook)."""
        return self._load().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        """Every setting the file gives, by field name."""
        return dict(self._load())

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            name = os.environ.get(SETTINGS_FILE)
            self._values = read_settings_file(Path(name), self.settings_cls) if name else {}
        return self._values


def read_settings_file(path: Path, settings_cls: type[BaseSettings]) -> dict[str, Any]:
    """The settings ``path`` holds, keyed by field name; :class:`ConfigError` when unusable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SETTINGS_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(SETTINGS_FILE, f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SETTINGS_FILE_BYTES:
        raise ConfigError(SETTINGS_FILE, f"{path} is larger than {MAX_SETTINGS_FILE_BYTES} bytes")
    try:
        loaded = yaml.safe_load(data) if data.strip() else {}
    except yaml.YAMLError:
        raise ConfigError(SETTINGS_FILE, f"{path} is not valid YAML") from None
    if not isinstance(loaded, dict):
        raise ConfigError(SETTINGS_FILE, f"{path} must hold a mapping of settings")
    values: dict[str, Any] = {}
    for key, value in loaded.items():
        field = str(key).removeprefix(_PREFIX).lower()
        if field not in settings_cls.model_fields:
            raise ConfigError(SETTINGS_FILE, f"{path}: {key!s} is not a unionhub setting")
        values[field] = value
    return values
