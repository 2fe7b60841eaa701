"""The one factory of every Kafka client unionhub makes, with the process's security applied.

Producers are idempotent and, when given a transactional id, transactional;
consumers read only committed data and never auto-commit. Every client (the
aiokafka ones here, librdkafka's for the benchmarks' ceiling and Quix peer,
the bare metadata client of ``kafka status``) gets the process's
:class:`~core.kafka.security.ClientSecurity`; ``tests/unit/test_kafka_clients_factory.py``
fails on a client constructed anywhere else.

**Why a process-wide configuration.** The security settings are installed
once at start-up from the parsed settings (:func:`configure_clients`: the
CLI's ``main`` right after ``configure_logging``, the test session, the
chaos run, the benchmarks), like the log masker, and the factories read that.
The alternative, passing them with the bootstrap address, would change the
signature of every one of the dozens of functions that take a ``bootstrap: str``
today, for a value that is the same for every client of a process. A factory
called before :func:`configure_clients` raises rather than connect in the
clear. A caller with another identity (the local cluster's launcher, acting
as its admin) passes ``security=`` explicitly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from core.errors import KafkaSetupError, KafkaUnavailableError
from core.kafka.aiokafka_adapter import AnyNodeAdminClient
from core.kafka.diagnosis import access_problem
from core.kafka.security import ClientSecurity, resolve_security
from core.logging import masker
from core.settings import Settings

if TYPE_CHECKING:  # the benchmarks extra: imported where it is used
    from quixstreams import Application

_installed: ClientSecurity | None = None


def configure_clients(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> ClientSecurity:
    """Resolve ``settings``' security block and make it every client's from now on.

    ``environ`` is what ``${env:NAME}`` password references read (the CLI hands
    in ``os.environ``). Raises :class:`~core.errors.ConfigError` naming the
    setting when the password cannot be resolved or a TLS file cannot be used.
    The resolved password is masked in every log line from here on.
    """
    security = resolve_security(settings, environ, settings.secrets_dir)
    if security.password is not None:
        masker().add_secret(security.password)
    install_security(security)
    return security


def install_security(security: ClientSecurity | None) -> None:
    """Make ``security`` every client's (None: back to unconfigured, for tests)."""
    global _installed
    _installed = security


def client_security() -> ClientSecurity:
    """The process's security configuration; raises if :func:`configure_clients` was not called."""
    if _installed is None:
        raise KafkaSetupError(
            "Kafka clients are not configured: call core.kafka.clients.configure_clients"
            "(settings) at start-up"
        )
    return _installed


def _security(security: ClientSecurity | None) -> ClientSecurity:
    return security if security is not None else client_security()


def _with_security(
    bootstrap: str, options: dict[str, Any], security: ClientSecurity | None
) -> dict[str, Any]:
    """``options`` with the bootstrap and the security settings, which no option overrides."""
    return {**options, "bootstrap_servers": bootstrap, **_security(security).aiokafka_options()}


@asynccontextmanager
async def admin_client(
    bootstrap: str, timeout_s: float = 15.0, *, security: ClientSecurity | None = None
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on exit.

    Raises :class:`~core.errors.KafkaAccessError` (naming the setting) when the
    brokers refuse this client's TLS or SASL, :class:`KafkaUnavailableError`
    when they do not answer.
    """
    applied = _security(security)
    options = {"request_timeout_ms": int(timeout_s * 1000)}
    admin = AnyNodeAdminClient(**_with_security(bootstrap, options, applied))
    try:
        await admin.start()
    except Exception as exc:  # aiokafka raises several unrelated types here
        await admin.close()
        problem = await access_problem(bootstrap, applied)
        if problem is not None:
            raise problem from exc
        raise KafkaUnavailableError(f"Kafka at {bootstrap} did not answer: {exc}") from exc
    try:
        yield admin
    finally:
        await admin.close()


def transactional_producer(
    bootstrap: str,
    transactional_id: str,
    *,
    security: ClientSecurity | None = None,
    **overrides: Any,
) -> AIOKafkaProducer:
    """An idempotent producer with ``transactional_id`` set (acks=all)."""
    options: dict[str, Any] = {
        "transactional_id": transactional_id,
        "linger_ms": 5,
        "transaction_timeout_ms": 60_000,
    }
    return idempotent_producer(bootstrap, security=security, **{**options, **overrides})


def idempotent_producer(
    bootstrap: str, *, security: ClientSecurity | None = None, **overrides: Any
) -> AIOKafkaProducer:
    """A plain idempotent producer (acks=all), for records that need no transaction."""
    options: dict[str, Any] = {"enable_idempotence": True, "acks": "all", "linger_ms": 5}
    options.update(overrides)
    return AIOKafkaProducer(**_with_security(bootstrap, options, security))


def committed_consumer(
    bootstrap: str, *topics: str, security: ClientSecurity | None = None, **overrides: Any
) -> AIOKafkaConsumer:
    """A consumer reading only committed records, with offsets committed by the caller."""
    options: dict[str, Any] = {
        "isolation_level": "read_committed",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **_with_security(bootstrap, options, security))


def metadata_client(
    bootstrap: str, timeout_s: float = 2.0, *, security: ClientSecurity | None = None
) -> AIOKafkaClient:
    """A bare client for metadata requests only (``kafka status``: does a broker answer?)."""
    options = {"request_timeout_ms": int(timeout_s * 1000)}
    return AIOKafkaClient(**_with_security(bootstrap, options, security))


# -- librdkafka (confluent-kafka, Quix Streams): the benchmarks' ceiling and Quix peer --------


def librdkafka_config(
    bootstrap: str,
    config: Mapping[str, Any] | None = None,
    *,
    security: ClientSecurity | None = None,
) -> dict[str, Any]:
    """librdkafka properties: ``bootstrap.servers`` and ``config``, then the security settings."""
    return {
        "bootstrap.servers": bootstrap,
        **(config or {}),
        **_security(security).librdkafka_config(),
    }


def confluent_producer(
    bootstrap: str, config: Mapping[str, Any], *, security: ClientSecurity | None = None
) -> Any:
    """A confluent-kafka ``Producer`` with ``config`` (librdkafka property names)."""
    from confluent_kafka import Producer  # type: ignore[import-untyped]  # benchmarks extra

    return Producer(librdkafka_config(bootstrap, config, security=security))


def confluent_consumer(
    bootstrap: str, config: Mapping[str, Any], *, security: ClientSecurity | None = None
) -> Any:
    """A confluent-kafka ``Consumer`` with ``config`` (librdkafka property names)."""
    from confluent_kafka import Consumer  # benchmarks extra

    return Consumer(librdkafka_config(bootstrap, config, security=security))


def quix_application(
    bootstrap: str, *, security: ClientSecurity | None = None, **options: Any
) -> Application:
    """A Quix Streams ``Application`` connecting with the process's security settings."""
    from quixstreams import Application
    from quixstreams.kafka.configuration import ConnectionConfig

    connection = ConnectionConfig.from_librdkafka_dict(
        librdkafka_config(bootstrap, security=security)
    )
    app: Application = Application(broker_address=connection, **options)
    return app
