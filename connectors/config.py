"""One pydantic config model per connector type, keyed as channels.md's "Connector settings".

Every model has ``name`` and ``channel`` plus its channel's settings. Secrets
are :class:`SecretStr` and may be given as references (see
:mod:`connectors.secrets`). :func:`parse_config` accepts the flat form
(``{name, channel, <settings>}``) and the nested form (``{name, channel,
settings: {...}}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.secrets import SecretResolver
from core.errors import ConfigError
from schemas.channels import Channel

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_VALUE_CHARS = 4096  # no setting (URL, id, secret reference) is legitimately longer


class ConnectorConfig(BaseModel):
    """Settings every connector has: its unique ``name`` and its ``channel``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=_NAME_PATTERN, description="Unique connector name.")
    channel: Channel
    poll_interval_s: float = Field(default=60, gt=0, description="Pause between polls.")

    def secrets(self) -> list[str]:
        """Clear values of every secret field, to register with the log masker."""
        return [
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr)
        ]


class _HttpConfig(ConnectorConfig):
    base_url: str = Field(description="Root URL of the upstream API (may carry a path prefix).")
    max_requests_per_s: float = Field(
        default=50,
        gt=0,
        le=10_000,
        description="Requests a second to this upstream, listing and replies together "
        "(the project's setting: one budget per upstream).",
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


class CitizenAppConfig(_HttpConfig):
    """citizen_app: OAuth2 client credentials, cursor paging."""

    channel: Literal[Channel.CITIZEN_APP] = Channel.CITIZEN_APP
    client_id: str
    client_secret: SecretStr
    page_size: int = Field(default=100, ge=1, le=200)
    poll_interval_s: float = Field(default=5, gt=0)
    replies: bool = Field(
        default=False,
        description="These credentials may also reply to the upstream (caseloop.md "
        "'Telling the channel'); without it no reply sink can use this connector.",
    )


class PetitionWindowConfig(_HttpConfig):
    """petition_window: API key, hourly GBK CSV batches with revisions."""

    channel: Literal[Channel.PETITION_WINDOW] = Channel.PETITION_WINDOW
    api_key: SecretStr
    poll_interval_s: float = Field(default=60, gt=0)


class Hotline12351Config(_HttpConfig):
    """hotline_12351: signed open API, update-time windows re-read over ``lookback_s``.

    ``backfill_s`` (not in channels.md; the project's choice) is how far back the
    very first pass starts, since the API has no "from the beginning".
    """

    channel: Literal[Channel.HOTLINE_12351] = Channel.HOTLINE_12351
    app_key: str
    app_secret: SecretStr
    poll_interval_s: float = Field(default=10, gt=0)
    lookback_s: int = Field(default=900, ge=0)
    backfill_s: int = Field(default=30 * 86400, gt=0)
    replies: bool = Field(
        default=False,
        description="These credentials may also reply to the upstream (caseloop.md "
        "'Telling the channel'); without it no reply sink can use this connector.",
    )


class ProvincialPetitionConfig(_HttpConfig):
    """provincial_petition: HTTP Basic, XML windows on DJSJ re-read until past late arrival.

    ``backfill_s`` (the project's choice) is how far back the first pass starts.
    """

    channel: Literal[Channel.PROVINCIAL_PETITION] = Channel.PROVINCIAL_PETITION
    username: str
    password: SecretStr
    poll_interval_s: float = Field(default=60, gt=0)
    window_s: int = Field(default=3600, gt=0, le=86400)
    late_arrival_s: int = Field(default=7200, ge=0)
    backfill_s: int = Field(default=30 * 86400, gt=0)


class LegalStationsConfig(ConnectorConfig):
    """legal_stations: a registry of station boxes, each polled on its own."""

    channel: Literal[Channel.LEGAL_STATIONS] = Channel.LEGAL_STATIONS
    registry_url: str
    token: SecretStr
    poll_interval_s: float = Field(default=30, gt=0)
    registry_refresh_s: float = Field(default=600, gt=0)
    max_concurrency: int = Field(default=32, ge=1, le=1024)
    request_timeout_s: float = Field(default=5, gt=0)

    @field_validator("registry_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


REPLY_CHANNELS = frozenset({Channel.CITIZEN_APP, Channel.HOTLINE_12351})
"""The channels whose contracts take replies (caseloop.md "Telling the channel")."""


class SinkConfig(BaseModel):
    """A reply sink: tells the worker's channel of resolves and closes from ``cases.state``.

    It owns no upstream settings: it uses those of ``connector``, the source
    connector of the same upstream (base URL, credentials, rate budget), which
    must say ``replies: true``. ``channel``, when given, must be that connector's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=_NAME_PATTERN, description="Unique connector name.")
    type: Literal["sink"]
    connector: str = Field(pattern=_NAME_PATTERN, description="The source connector it uses.")
    channel: Channel | None = None
    max_batch: int = Field(default=100, ge=1, le=10_000, description="Case states per poll.")

    @field_validator("channel")
    @classmethod
    def _takes_replies(cls, value: Channel | None) -> Channel | None:
        if value is not None and value not in REPLY_CHANNELS:
            raise ValueError(f"channel {value} takes no replies")
        return value

    def secrets(self) -> list[str]:
        """A sink holds no secret of its own (its connector's are registered with it)."""
        return []


def is_sink(raw: Mapping[str, Any]) -> bool:
    """Whether a raw config describes a reply sink (``type: sink``)."""
    return raw.get("type") == "sink"


def reply_refusal(config: ConnectorConfig) -> str | None:
    """Why no reply sink can use ``config`` (None: one can)."""
    if config.channel not in REPLY_CHANNELS:
        return f"channel {config.channel} takes no replies"
    if not getattr(config, "replies", False):
        return f"connector {config.name} has no reply credentials (replies is not true)"
    return None


CONFIG_MODELS: dict[Channel, type[ConnectorConfig]] = {
    Channel.CITIZEN_APP: CitizenAppConfig,
    Channel.PETITION_WINDOW: PetitionWindowConfig,
    Channel.HOTLINE_12351: Hotline12351Config,
    Channel.PROVINCIAL_PETITION: ProvincialPetitionConfig,
    Channel.LEGAL_STATIONS: LegalStationsConfig,
}


def parse_sink_config(raw: Mapping[str, Any]) -> SinkConfig:
    """Validate a reply sink's config; :class:`ConfigError` names the bad field."""
    try:
        return SinkConfig.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(field, first["msg"]) from None


def parse_config(raw: Mapping[str, Any], resolver: SecretResolver) -> ConnectorConfig:
    """Validate one admin-supplied config, resolving secret references first.

    Raises :class:`ConfigError` naming the bad field; secret values never
    appear in the message.
    """
    data = dict(raw)
    nested = data.pop("settings", None)
    if isinstance(nested, Mapping):
        data.update(nested)
    elif nested is not None:
        raise ConfigError("settings", "must be a mapping")
    channel_name = data.get("channel")
    if not isinstance(channel_name, str):
        raise ConfigError("channel", "must be a string naming a channel")
    try:
        channel = Channel(channel_name)
    except ValueError:
        raise ConfigError("channel", f"unknown channel {channel_name[:40]!r}") from None
    model = CONFIG_MODELS[channel]
    for key, value in list(data.items()):
        if not isinstance(key, str):
            raise ConfigError("config", "every setting name must be a string")
        if isinstance(value, str):
            if len(value) > MAX_VALUE_CHARS:
                raise ConfigError(key, f"longer than {MAX_VALUE_CHARS} characters")
            data[key] = resolver.resolve(key, value)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(field, first["msg"]) from None
