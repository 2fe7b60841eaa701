"""The one place unionhub reads aiokafka's private or undocumented attributes.

aiokafka has no public accessor for a producer's transaction state, its
``max_request_size`` or the partitions its partitioner chooses among; the
exactly-once runtime and the intake writer need them. Every such read goes
through a function here, and each one names the attribute it relies on: when
an aiokafka upgrade removes or renames one, the call raises
:class:`AiokafkaInternalsError` naming the attribute and the installed
version, and ``tests/unit/test_aiokafka_adapter.py`` (which calls every
function on real aiokafka objects) fails the same way before anything ships.
"""

from __future__ import annotations

import random
from typing import Any

import aiokafka
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

# Transaction states (names of aiokafka's ``TransactionState``) the runtime acts on.
IDLE_STATES = frozenset({"READY"})
ABORTABLE_STATES = frozenset({"IN_TRANSACTION", "ABORTABLE_ERROR"})
_ADAPTER = "core/kafka/aiokafka_adapter.py"
_ADAPT = "adapt it to this aiokafka, or pin the version it was written for"

# What :func:`transaction_state` says of a producer without transactions.
NO_TRANSACTIONS = "UNKNOWN"


class AiokafkaInternalsError(RuntimeError):
    """An aiokafka attribute this adapter relies on is missing from the installed aiokafka."""


def installed_version() -> str:
    """The installed aiokafka's version, as its package states it."""
    return str(aiokafka.__version__)


def transaction_state_names() -> frozenset[str]:
    """Every state name aiokafka's ``TransactionState`` defines."""
    try:
        from aiokafka.producer.transaction_manager import TransactionState
    except ImportError as exc:
        raise AiokafkaInternalsError(
            f"aiokafka {installed_version()} has no "
            "aiokafka.producer.transaction_manager.TransactionState, which "
            f"{_ADAPTER} relies on: {_ADAPT}"
        ) from exc
    return frozenset(TransactionState.__members__)


def transaction_state(producer: AIOKafkaProducer) -> str:
    """The name of ``producer``'s transaction state (``READY``, ``IN_TRANSACTION``, ...).

    :data:`NO_TRANSACTIONS` for a producer that has no transaction manager
    (neither transactional nor idempotent).
    """
    manager = _attribute(producer, "_txn_manager")
    if manager is None:
        return NO_TRANSACTIONS
    return str(_attribute(_attribute(manager, "state"), "name"))


def fatal_transaction_error(producer: AIOKafkaProducer) -> BaseException | None:
    """The error that put ``producer``'s transactions in the fatal state; None if they are not.

    aiokafka's sender keeps the fatal error (e.g. ``ProducerFenced`` noticed
    by the sender first) on the transaction's waiter, while the call in
    progress fails with an unrelated ``IllegalOperation``.
    """
    manager = _attribute(producer, "_txn_manager")
    if manager is None or not _attribute(manager, "is_fatal_error")():
        return None
    waiter = _attribute(manager, "wait_for_transaction_end")()
    if waiter is None or not waiter.done() or waiter.cancelled():
        return None
    error: BaseException | None = waiter.exception()
    return error


def max_request_size(producer: AIOKafkaProducer) -> int:
    """The largest request ``producer`` sends (its ``max_request_size`` setting), in bytes."""
    return int(_attribute(producer, "_max_request_size"))


async def topic_partitions(producer: AIOKafkaProducer, topic: str) -> tuple[list[int], list[int]]:
    """All of ``topic``'s partitions and those with a leader now, both sorted.

    What aiokafka's partitioner chooses among in ``send``; waits for the
    topic's metadata as ``send`` does (raises ``UnknownTopicOrPartitionError``
    after the request timeout).
    """
    await producer.partitions_for(topic)
    cluster = _attribute(_attribute(producer, "client"), "cluster")
    known = sorted(_attribute(cluster, "partitions_for_topic")(topic) or ())
    available = sorted(_attribute(cluster, "available_partitions_for_topic")(topic) or ())
    return known, available


def _attribute(owner: object, name: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError as exc:
        raise AiokafkaInternalsError(
            f"aiokafka {installed_version()} has no {type(owner).__name__}.{name}, which "
            f"{_ADAPTER} relies on: {_ADAPT}"
        ) from exc


async def open_connection(host: str, port: int, **options: Any) -> Any:
    """One connection to a broker, handshakes done (TLS, ApiVersions, SASL), as aiokafka
    opens it; raises what the handshake raised, unlike the clients' bootstrap, which
    only says that it could not bootstrap. The caller closes it (``close()``)."""
    try:
        from aiokafka.conn import create_conn
    except ImportError as exc:
        raise AiokafkaInternalsError(
            f"aiokafka {installed_version()} has no aiokafka.conn.create_conn, which "
            f"{_ADAPTER} relies on: {_ADAPT}"
        ) from exc
    return await create_conn(host, port, **options)


async def send_admin_request(admin: Any, request: Any) -> Any:
    """Send an ``aiokafka.protocol`` request the admin client has no method for (CreateAcls)
    to any broker; the response."""
    return await _attribute(admin, "_send_request")(request)


class AnyNodeAdminClient(AIOKafkaAdminClient):  # type: ignore[misc]  # aiokafka is untyped here
    """An admin client whose requests for "any broker" go to one that is up.

    aiokafka's admin client sends such requests (metadata: ``list_topics``,
    ``describe_topics``...) to a random broker of its metadata, and fails with
    ``NodeNotReadyError`` when that broker has just died: the cluster still lists
    it until the controller fences it. This one tries the brokers in random
    order and sends to the first it can connect to; a request for one broker in
    particular (a group's coordinator, a topic's leader) is sent as before.
    Overrides ``AIOKafkaAdminClient._send_request`` and reads its ``_client``.
    """

    async def _send_request(self, request: Any, node_id: int | None = None) -> Any:
        if node_id is not None:
            return await super()._send_request(request, node_id)
        client = _attribute(self, "_client")
        nodes = [broker.nodeId for broker in _attribute(client, "cluster").brokers()]
        random.shuffle(nodes)
        for node in nodes[:-1]:
            if await client.ready(node):
                return await client.send(node, request)
        return await super()._send_request(request, nodes[-1] if nodes else None)
