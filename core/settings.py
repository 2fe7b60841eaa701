"""Process settings, parsed once at start-up from ``UNIONHUB_*`` variables (and a file).

The CLI builds one :class:`Settings` and passes it (or the parts a component
needs) down; no module below the CLI reads the environment itself. The same
settings may come from the YAML file ``UNIONHUB_SETTINGS_FILE`` names
(:mod:`core.settings_file`); a variable in the environment wins over the file.
The Kafka client security block is :class:`core.kafka.security.KafkaClientSettings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.kafka.security import KafkaClientSettings
from core.settings_file import SettingsFileSource


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "share" / "unionhub"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "unionhub"


class Settings(BaseSettings, KafkaClientSettings):
    """Everything a unionhub process may be told from its environment or settings file."""

    model_config = SettingsConfigDict(env_prefix="UNIONHUB_", extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        description="host:port of the Kafka broker to use, or a comma-separated list of them.",
    )
    namespace: str = Field(
        default="",
        description=(
            "Prefix of every topic, transactional id and group id this process uses; "
            "empty in production, set by tests to isolate runs on one broker."
        ),
    )
    kafka_version: str = Field(default="3.9.1", description="Local broker version to fetch.")
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where downloaded broker jars are kept (outside the repository).",
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        description="Where the local broker keeps its data, config, pid and log files.",
    )
    kafka_heap: str = Field(default="1g", description="JVM heap (-Xmx) of the local broker.")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="JSON lines, human-readable, or by whether stderr is a TTY."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    secrets_dir: Path | None = Field(
        default=None,
        description="The only directory ${file:PATH} secret references may read from.",
    )
    http_port: int = Field(default=8083, ge=0, le=65535, description="Admin REST and metrics.")
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token every admin API call must present."
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr("unionhub-dev-pseudonym-key"),
        description="HMAC key of person_key pseudonyms; set a real secret in production.",
    )
    router_session_timeout_ms: int = Field(
        default=10_000,
        ge=6_000,
        le=300_000,
        description=(
            "How long the broker waits on a silent router process before its partitions, "
            "and the dedupe stage, move to a standby (the failover time)."
        ),
    )
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        le=32767,
        description=(
            "Replicas of each topic `topics ensure` creates: 1 for the local broker, "
            "3 on a production cluster (with min.insync.replicas=2 on the brokers)."
        ),
    )
    router_stages: Literal["all", "normalize", "dispatch"] = Field(
        default="all",
        description=(
            "Which router stages `router run` runs in this process: both (all), or one, "
            "e.g. the stateful dispatch stage alone on one process and normalize on the others."
        ),
    )

    case_loop: bool = Field(
        default=True,
        description=(
            "Run the closed loop after dispatch (actions, case states, SLA alerts) in the "
            "router's dispatch stage; off, the router only dispatches."
        ),
    )
    loop_speed: float = Field(
        default=1.0,
        gt=0,
        le=1_000_000,
        description=(
            "How many times faster than the wall clock the case loop's clock runs (tests and "
            "the demo); 1 in production. See caseloop/loopclock.py."
        ),
    )
    loop_anchor: AwareDatetime | None = Field(
        default=None,
        description=(
            "The instant from which a fast loop clock runs (ISO-8601 with offset); required "
            "when loop_speed is not 1, and fixed across restarts."
        ),
    )

    case_store: Literal["sqlite", "postgresql"] = Field(
        default="sqlite",
        description=(
            "The case store's backend (review/store/): embedded SQLite under the state dir, "
            "or PostgreSQL at UNIONHUB_CASE_STORE_DSN."
        ),
    )
    case_store_dsn: SecretStr | None = Field(
        default=None,
        description="libpq connection string of the PostgreSQL case store (a secret).",
    )
    report_satisfaction_floor: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="The weekly report highlights districts whose 满意率 is below this.",
    )

    @model_validator(mode="after")
    def _check_loop_clock(self) -> Settings:
        if self.loop_speed != 1 and self.loop_anchor is None:
            raise ValueError("UNIONHUB_LOOP_ANCHOR: required when UNIONHUB_LOOP_SPEED is not 1")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``UNIONHUB_SETTINGS_FILE``."""
        return (init_settings, env_settings, SettingsFileSource(settings_cls))

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for address in value.split(","):
            host, sep, port = address.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError("must be host:port[,host:port...], e.g. 127.0.0.1:9092")
        return value

    @property
    def kafka_host(self) -> str:
        """Host part of the first address of :attr:`kafka_bootstrap`."""
        return self.kafka_bootstrap.split(",")[0].strip().rpartition(":")[0]

    @property
    def kafka_port(self) -> int:
        """Port part of the first address of :attr:`kafka_bootstrap`."""
        return int(self.kafka_bootstrap.split(",")[0].strip().rpartition(":")[2])

    def secret_values(self) -> list[str]:
        """Every secret this process holds, for the log masker."""
        secrets = [self.pseudonym_key.get_secret_value()]
        if self.admin_token is not None:
            secrets.append(self.admin_token.get_secret_value())
        if self.case_store_dsn is not None:
            secrets.append(self.case_store_dsn.get_secret_value())
        return secrets
