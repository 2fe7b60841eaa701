"""How every Kafka client of the process authenticates: the settings block and its resolution.

:class:`KafkaClientSettings` is the block of :class:`core.settings.Settings`
(``UNIONHUB_KAFKA_SECURITY_PROTOCOL``, ``..._SSL_CAFILE``, ``..._SSL_CERTFILE``,
``..._SSL_KEYFILE``, ``..._SSL_CHECK_HOSTNAME``, ``..._SASL_MECHANISM``,
``..._SASL_USERNAME``, ``..._SASL_PASSWORD``); its validator refuses
combinations that cannot work, naming the setting. :func:`resolve_security`
turns it into a :class:`ClientSecurity` at start-up: the password reference
resolved, the CA, certificate and key loaded into one TLS context (so a bad
file fails there, named, not at the first connection), and the options each
client library takes (aiokafka's keywords, librdkafka's properties).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import BaseModel, Field, SecretStr, model_validator

from core.errors import ConfigError
from core.secrets import SecretResolver

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_SSL", "SASL_PLAINTEXT"})

PROTOCOL = "UNIONHUB_KAFKA_SECURITY_PROTOCOL"
CAFILE = "UNIONHUB_KAFKA_SSL_CAFILE"
CERTFILE = "UNIONHUB_KAFKA_SSL_CERTFILE"
KEYFILE = "UNIONHUB_KAFKA_SSL_KEYFILE"
CHECK_HOSTNAME = "UNIONHUB_KAFKA_SSL_CHECK_HOSTNAME"
MECHANISM = "UNIONHUB_KAFKA_SASL_MECHANISM"
USERNAME = "UNIONHUB_KAFKA_SASL_USERNAME"
PASSWORD = "UNIONHUB_KAFKA_SASL_PASSWORD"  # noqa: S105 - the setting's name, not a secret


class KafkaClientSettings(BaseModel):
    """The Kafka client security settings; a part of :class:`core.settings.Settings`.

    Promises, once validated: SASL settings are given exactly when the
    protocol uses SASL (mechanism, username and password all three), TLS files
    only when it uses TLS, and a client certificate only with its key.
    """

    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="PLAINTEXT (local broker), SSL (TLS, mTLS with a client certificate), "
        "SASL_SSL (TLS and SASL), SASL_PLAINTEXT (SASL without TLS; not for production).",
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that sign the brokers' certificates "
        "(the system's trust store when unset).",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="PEM client certificate (chain) for mTLS; needs the key file."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key (unencrypted) of the client certificate."
    )
    kafka_ssl_check_hostname: bool = Field(
        default=True,
        description="Check that the broker's certificate names the host connected to.",
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None, description="SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN."
    )
    kafka_sasl_username: str | None = Field(default=None, description="The SASL principal.")
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="The SASL password, or a ${env:NAME} / ${file:PATH} reference to it.",
    )

    @model_validator(mode="after")
    def _check_security(self) -> KafkaClientSettings:
        protocol = self.kafka_security_protocol
        sasl = {
            MECHANISM: self.kafka_sasl_mechanism,
            USERNAME: self.kafka_sasl_username,
            PASSWORD: self.kafka_sasl_password,
        }
        tls: dict[str, Path | None] = {
            CAFILE: self.kafka_ssl_cafile,
            CERTFILE: self.kafka_ssl_certfile,
            KEYFILE: self.kafka_ssl_keyfile,
        }
        if protocol in SASL_PROTOCOLS:
            for name, value in sasl.items():
                if not value:
                    raise ValueError(f"{name}: required with {PROTOCOL}={protocol}")
        else:
            for name, value in sasl.items():
                if value:
                    raise ValueError(f"{name}: set, but {PROTOCOL}={protocol} uses no SASL")
        if protocol not in TLS_PROTOCOLS:
            for name, path in tls.items():
                if path is not None:
                    raise ValueError(f"{name}: set, but {PROTOCOL}={protocol} uses no TLS")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            missing = KEYFILE if self.kafka_ssl_keyfile is None else CERTFILE
            raise ValueError(f"{missing}: a client certificate needs both its file and its key")
        return self


@dataclass(frozen=True)
class ClientSecurity:
    """A resolved security configuration: what each Kafka client library is given.

    ``password`` holds the resolved SASL password (never in ``repr``); the
    TLS context is built once and shared by every aiokafka client.
    """

    protocol: SecurityProtocol = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = None
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    check_hostname: bool = True
    sasl_mechanism: SaslMechanism | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def uses_tls(self) -> bool:
        """Whether connections are TLS."""
        return self.protocol in TLS_PROTOCOLS

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments of every aiokafka client (producer, consumer, admin, client)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.ssl_context is not None:
            options["ssl_context"] = self.ssl_context
        if self.sasl_mechanism is not None:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options

    def librdkafka_config(self) -> dict[str, str]:
        """The same settings as librdkafka properties (confluent-kafka, Quix Streams)."""
        config = {"security.protocol": self.protocol.lower()}
        if self.uses_tls:
            if self.cafile is not None:
                config["ssl.ca.location"] = str(self.cafile)
            if self.certfile is not None and self.keyfile is not None:
                config["ssl.certificate.location"] = str(self.certfile)
                config["ssl.key.location"] = str(self.keyfile)
            config["ssl.endpoint.identification.algorithm"] = (
                "https" if self.check_hostname else "none"
            )
        if self.sasl_mechanism is not None:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.username or ""
            config["sasl.password"] = self.password or ""
        return config


PLAINTEXT = ClientSecurity()


def resolve_security(
    settings: KafkaClientSettings,
    environ: Mapping[str, str] | None = None,
    secrets_dir: Path | None = None,
) -> ClientSecurity:
    """``settings`` resolved: the password reference followed, the TLS files loaded.

    Raises :class:`~core.errors.ConfigError` naming the setting (never a secret)
    when a reference cannot be resolved or a file cannot be read or used.
    """
    password = None
    if settings.kafka_sasl_password is not None:
        resolver = SecretResolver(dict(environ or {}), secrets_dir)
        password = resolver.resolve(PASSWORD, settings.kafka_sasl_password.get_secret_value())
        if not password:
            raise ConfigError(PASSWORD, "resolves to an empty password")
    context = None
    if settings.kafka_security_protocol in TLS_PROTOCOLS:
        context = tls_context(
            settings.kafka_ssl_cafile,
            settings.kafka_ssl_certfile,
            settings.kafka_ssl_keyfile,
            check_hostname=settings.kafka_ssl_check_hostname,
        )
    return ClientSecurity(
        protocol=settings.kafka_security_protocol,
        ssl_context=context,
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        check_hostname=settings.kafka_ssl_check_hostname,
        sasl_mechanism=settings.kafka_sasl_mechanism,
        username=settings.kafka_sasl_username,
        password=password,
    )


def tls_context(
    cafile: Path | None,
    certfile: Path | None,
    keyfile: Path | None,
    *,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client TLS context trusting ``cafile`` (or the system's CAs), with the client
    certificate when given; :class:`ConfigError` naming the file's setting otherwise."""
    try:
        context: ssl.SSLContext = create_ssl_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(CAFILE, f"cannot load CA certificates: {_reason(exc)}") from None
    if certfile is not None and keyfile is not None:
        for name, path in ((CERTFILE, certfile), (KEYFILE, keyfile)):
            if not path.is_file():
                raise ConfigError(name, f"no such file: {path}")
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                CERTFILE, f"certificate and key cannot be used together: {_reason(exc)}"
            ) from None
    if not check_hostname:
        context.check_hostname = False
    return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc)
    return exc.strerror or type(exc).__name__
