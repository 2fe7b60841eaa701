"""Field-level validation of connector configs, with or without resolving secrets.

``parse_config`` (connectors) stops at the first problem; an admin wants every
problem of a file at once, each naming its field. Messages never quote values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError

from connectors.config import CONFIG_MODELS, ConnectorConfig, SinkConfig, is_sink
from connectors.secrets import SecretResolver
from core.errors import ConfigError
from schemas.channels import Channel
from unionhub.configstore import is_secret_reference

# What a reference stands for when only the shape is checked (it is resolved later,
# by the daemon, in its own environment).
_REFERENCE_PLACEHOLDER = "unresolved-secret-reference"


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field and why (never its value)."""

    field: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """``{"field": ..., "reason": ...}``."""
        return {"field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class ValidationOutcome:
    """Every problem of a config, and the parsed config when there is none."""

    problems: list[FieldProblem] = field(default_factory=list)
    config: ConnectorConfig | None = None
    sink: SinkConfig | None = None  # a valid reply sink's config (it has no upstream of its own)

    @property
    def ok(self) -> bool:
        """True when the config is valid."""
        return not self.problems


class ShapeOnlyResolver(SecretResolver):
    """Accepts any well-formed reference without resolving it (the daemon resolves it)."""

    def resolve(self, field_name: str, value: str) -> str:
        """A placeholder for a reference; the value itself otherwise."""
        if is_secret_reference(value.strip()):
            return _REFERENCE_PLACEHOLDER
        if "${" in value:
            raise ConfigError(field_name, "malformed secret reference")
        return value


def secret_keys() -> frozenset[str]:
    """Names of every secret field of every connector type (masked on display)."""
    keys: set[str] = set()
    for model in CONFIG_MODELS.values():
        for name, info in model.model_fields.items():
            if info.annotation is SecretStr:
                keys.add(name)
    return frozenset(keys)


def channel_of(raw: Mapping[str, Any]) -> Channel:
    """The config's channel; :class:`ConfigError` on ``channel`` if unknown or missing."""
    value = raw.get("channel")
    try:
        # Only a string can name a channel; str() of anything else could expand a YAML bomb.
        return Channel(value if isinstance(value, str) else "")
    except ValueError:
        raise ConfigError("channel", f"unknown channel; one of {', '.join(Channel)}") from None


def validate_config(raw: object, resolver: SecretResolver) -> ValidationOutcome:
    """Check ``raw`` (flat or with a nested ``settings`` mapping) against its channel's model."""
    if not isinstance(raw, Mapping):
        return ValidationOutcome([FieldProblem("config", "must be a mapping")])
    data = dict(raw)
    nested = data.pop("settings", None)
    if isinstance(nested, Mapping):
        data.update(nested)
    elif nested is not None:
        return ValidationOutcome([FieldProblem("settings", "must be a mapping")])
    if is_sink(data):
        return _validate_sink(data)
    try:
        channel = channel_of(data)
    except ConfigError as exc:
        return ValidationOutcome([FieldProblem(exc.field, exc.reason)])
    problems: list[FieldProblem] = []
    for key, value in list(data.items()):
        if isinstance(value, str):
            try:
                data[key] = resolver.resolve(key, value)
            except ConfigError as exc:
                problems.append(FieldProblem(exc.field, exc.reason))
    try:
        config = CONFIG_MODELS[channel].model_validate(data)
    except ValidationError as exc:
        problems += [
            FieldProblem(".".join(str(p) for p in error["loc"]) or "config", error["msg"])
            for error in exc.errors(include_input=False, include_url=False)
        ]
        return ValidationOutcome(problems)
    return ValidationOutcome(problems, None if problems else config)


def _validate_sink(data: dict[str, Any]) -> ValidationOutcome:
    """A reply sink's shape (whether its connector can reply is the admin service's check)."""
    try:
        sink = SinkConfig.model_validate(data)
    except ValidationError as exc:
        return ValidationOutcome(
            [
                FieldProblem(".".join(str(p) for p in error["loc"]) or "config", error["msg"])
                for error in exc.errors(include_input=False, include_url=False)
            ]
        )
    return ValidationOutcome(sink=sink)
