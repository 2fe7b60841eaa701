"""aiokafka client factories with the settings every unionhub component shares.

Producers are idempotent and, when given a transactional id, transactional;
consumers read only committed data and never auto-commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from core.errors import KafkaUnavailableError


@asynccontextmanager
async def admin_client(
    bootstrap: str, timeout_s: float = 15.0
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on exit; raises if the broker does not answer."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
    except Exception as exc:  # aiokafka raises several unrelated types here
        await admin.close()
        raise KafkaUnavailableError(f"Kafka at {bootstrap} did not answer: {exc}") from exc
    try:
        yield admin
    finally:
        await admin.close()


def transactional_producer(
    bootstrap: str, transactional_id: str, **overrides: Any
) -> AIOKafkaProducer:
    """An idempotent producer with ``transactional_id`` set (acks=all)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "transactional_id": transactional_id,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
        "transaction_timeout_ms": 60_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def idempotent_producer(bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """A plain idempotent producer (acks=all), for records that need no transaction."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def committed_consumer(bootstrap: str, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer reading only committed records, with offsets committed by the caller."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "isolation_level": "read_committed",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)
