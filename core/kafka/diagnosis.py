"""Why a broker refused this client, in words that name the setting to look at.

aiokafka's clients say only "Unable to bootstrap" when a TLS handshake or a
SASL login fails (and log the cause). :func:`access_problem` opens one
connection itself, with the same security, and turns what the handshake
raised into a :class:`~core.errors.KafkaAccessError`: an untrusted broker
certificate, a certificate the broker refuses, a wrong password, a protocol
that does not match the listener. A broker that is simply down is no access
problem (None): that stays :class:`~core.errors.KafkaUnavailableError`, retriable.
:func:`acl_refusal` does the same for an ACL refusal of a request.
"""

from __future__ import annotations

import asyncio
import ssl

from aiokafka import errors as kafka_errors

from core.errors import KafkaAccessError
from core.kafka import aiokafka_adapter
from core.kafka.security import (
    CAFILE,
    CERTFILE,
    CHECK_HOSTNAME,
    MECHANISM,
    PASSWORD,
    PROTOCOL,
    USERNAME,
    ClientSecurity,
)

PROBE_TIMEOUT_S = 5.0
_HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH
_AUTHORIZATION = (
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.TransactionalIdAuthorizationFailed,
)
_AUTHENTICATION = (
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.AuthenticationFailedError,
    kafka_errors.IllegalSaslStateError,
)


async def access_problem(bootstrap: str, security: ClientSecurity) -> KafkaAccessError | None:
    """What refuses this client at ``bootstrap``; None when nothing does (or no broker
    answers at all: a broker that is down is not an access problem)."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, int(port)), PROBE_TIMEOUT_S
            )
        except (OSError, TimeoutError):
            continue  # nobody listens there: try the next address
        writer.close()
        return await _handshake_problem(host, int(port), security)
    return None


async def _handshake_problem(
    host: str, port: int, security: ClientSecurity
) -> KafkaAccessError | None:
    where = f"{host}:{port}"
    try:
        connection = await asyncio.wait_for(
            aiokafka_adapter.open_connection(
                host,
                port,
                client_id="unionhub.diagnosis",
                request_timeout_ms=int(PROBE_TIMEOUT_S * 1000),
                **security.aiokafka_options(),
            ),
            PROBE_TIMEOUT_S * 2,
        )
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code == _HOSTNAME_MISMATCH:
            return KafkaAccessError(
                f"TLS: the certificate of the broker at {where} does not name {host} "
                f"({exc.verify_message}); connect by a name it has, or see {CHECK_HOSTNAME}"
            )
        return KafkaAccessError(
            f"TLS: the certificate of the broker at {where} is not trusted "
            f"({exc.verify_message}); {CAFILE} must hold the CA that signed it"
        )
    except ssl.SSLError as exc:
        return KafkaAccessError(
            f"TLS handshake with {where} failed ({exc.reason}){_cert(security)}"
        )
    except _AUTHENTICATION as exc:
        return KafkaAccessError(
            f"SASL {security.sasl_mechanism} login as {security.username!r} refused by {where}: "
            f"wrong username or password ({USERNAME}, {PASSWORD}) [{type(exc).__name__}]"
        )
    except kafka_errors.UnsupportedSaslMechanismError:
        return KafkaAccessError(
            f"the broker at {where} does not offer {MECHANISM}={security.sasl_mechanism}"
        )
    except (OSError, TimeoutError, kafka_errors.KafkaError) as exc:
        return KafkaAccessError(
            f"the broker at {where} closed the connection during the handshake "
            f"({type(exc).__name__}): does {PROTOCOL}={security.protocol} match its listener"
            f"{_cert(security)}?"
        )
    connection.close()
    return None


def _cert(security: ClientSecurity) -> str:
    if security.certfile is None:
        return ""
    return f"; does the broker accept the client certificate {CERTFILE}={security.certfile}"


def acl_refusal(exc: BaseException, what: str) -> KafkaAccessError | None:
    """A :class:`KafkaAccessError` saying the ACLs refuse ``what`` when ``exc`` is a broker's
    authorization or authentication refusal; None for any other error."""
    if isinstance(exc, _AUTHORIZATION):
        return KafkaAccessError(
            f"{what}: not allowed for this client's principal (Kafka ACLs) [{type(exc).__name__}]"
        )
    if isinstance(exc, _AUTHENTICATION):
        return KafkaAccessError(f"{what}: SASL login refused ({USERNAME}, {PASSWORD})")
    return None
