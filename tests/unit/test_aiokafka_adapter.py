"""The aiokafka internals ``core.kafka.aiokafka_adapter`` relies on exist in this aiokafka.

Every test calls the adapter on real aiokafka objects, made without a broker.
If an aiokafka upgrade removes or renames an attribute, the adapter raises
``AiokafkaInternalsError`` naming it and the installed version, and the test
fails with that message. The few internals a test itself uses to stand in for
the broker (a producer id, cluster metadata) fail with the same kind of message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerFenced

from core.kafka.aiokafka_adapter import (
    ABORTABLE_STATES,
    IDLE_STATES,
    NO_TRANSACTIONS,
    AiokafkaInternalsError,
    fatal_transaction_error,
    installed_version,
    max_request_size,
    topic_partitions,
    transaction_state,
    transaction_state_names,
)
from core.kafka.clients import idempotent_producer, transactional_producer

# Nothing listens here: the producers below are created, never started.
_NO_BROKER = "127.0.0.1:9"


@pytest.fixture
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    """A transactional producer that is created but not started (no broker involved)."""
    created = transactional_producer(_NO_BROKER, "adapter-test", max_request_size=123_456)
    try:
        yield created
    finally:
        await created.stop()


def test_the_transaction_states_the_runtime_acts_on_exist() -> None:
    missing = (IDLE_STATES | ABORTABLE_STATES) - transaction_state_names()
    assert not missing, f"aiokafka {installed_version()} has no TransactionState {missing}"


async def test_transaction_state_follows_the_producer(producer: AIOKafkaProducer) -> None:
    assert transaction_state(producer) == "UNINITIALIZED"
    _given_a_producer_id(producer)
    assert transaction_state(producer) in IDLE_STATES
    await producer.begin_transaction()
    assert transaction_state(producer) in ABORTABLE_STATES


async def test_a_producer_without_transactions_has_no_transaction_state() -> None:
    plain = idempotent_producer(_NO_BROKER, enable_idempotence=False)
    try:
        assert transaction_state(plain) == NO_TRANSACTIONS
        assert fatal_transaction_error(plain) is None
    finally:
        await plain.stop()


async def test_fatal_transaction_error_is_the_error_the_sender_kept(
    producer: AIOKafkaProducer,
) -> None:
    assert fatal_transaction_error(producer) is None
    _given_a_producer_id(producer)
    await producer.begin_transaction()
    assert fatal_transaction_error(producer) is None
    fenced = ProducerFenced()
    _internal(_internal(producer, "_txn_manager"), "fatal_error")(fenced)
    assert fatal_transaction_error(producer) is fenced


async def test_max_request_size_is_the_producer_setting(producer: AIOKafkaProducer) -> None:
    assert max_request_size(producer) == 123_456


async def test_topic_partitions_are_those_of_the_producer_metadata(
    producer: AIOKafkaProducer,
) -> None:
    # Partition 1 has no leader (-1): known, but not available.
    partitions = [(0, 2, 0, [0], [0]), (0, 0, 0, [0], [0]), (0, 1, -1, [0], [0])]
    _given_metadata(producer, topic="t", partitions=partitions)
    assert await topic_partitions(producer, "t") == ([0, 1, 2], [0, 2])


def test_a_missing_attribute_is_named_with_the_installed_version() -> None:
    with pytest.raises(AiokafkaInternalsError) as raised:
        max_request_size(object())
    message = str(raised.value)
    assert f"aiokafka {installed_version()}" in message
    assert "object._max_request_size" in message


def _given_a_producer_id(producer: AIOKafkaProducer) -> None:
    """What a started producer gets from the broker's InitProducerId."""
    _internal(_internal(producer, "_txn_manager"), "set_pid_and_epoch")(1, 0)


def _given_metadata(producer: AIOKafkaProducer, *, topic: str, partitions: list[Any]) -> None:
    """What the producer's client learns from a metadata response naming ``topic``."""
    try:
        from aiokafka.protocol.metadata import MetadataResponse_v0
    except ImportError as exc:
        pytest.fail(f"aiokafka {installed_version()}: MetadataResponse_v0 moved ({exc})")
    response = MetadataResponse_v0([(0, "127.0.0.1", 9)], [(0, topic, partitions)])
    _internal(_internal(_internal(producer, "client"), "cluster"), "update_metadata")(response)


def _internal(owner: object, name: str) -> Any:
    if not hasattr(owner, name):
        pytest.fail(f"aiokafka {installed_version()} has no {type(owner).__name__}.{name}")
    return getattr(owner, name)


def test_the_any_node_admin_client_overrides_what_aiokafka_has() -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from core.kafka.aiokafka_adapter import AnyNodeAdminClient

    assert callable(AIOKafkaAdminClient._send_request)
    assert AnyNodeAdminClient._send_request is not AIOKafkaAdminClient._send_request
