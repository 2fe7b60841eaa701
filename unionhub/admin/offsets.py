"""A connector's checkpoints ("offsets" in Kafka Connect's words): show and reset them.

Resetting writes with the connector's own transactional id, so a producer of
the connector still alive anywhere is fenced rather than racing the reset;
the admin service only allows it while the connector is paused (KIP-875).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka.errors import KafkaError

from connectors.checkpoints import checkpoint_value, read_checkpoints
from core.errors import KafkaUnavailableError
from core.kafka.clients import transactional_producer
from core.kafka.topics import TopicCatalog
from unionhub.admin.errors import AdminError


async def read_offsets(bootstrap: str, catalog: TopicCatalog, name: str) -> dict[str, Any]:
    """Every committed checkpoint of connector ``name``, by key (``name`` or ``name/<sub>``)."""
    return dict(await read_checkpoints(bootstrap, catalog.checkpoints, name))


def check_new_offsets(name: str, offsets: object) -> dict[str, dict[str, Any]]:
    """``offsets`` if it maps this connector's keys to JSON objects; :class:`AdminError` if not."""
    if not isinstance(offsets, Mapping):
        raise AdminError("offsets", "must map checkpoint keys to JSON objects")
    checked: dict[str, dict[str, Any]] = {}
    for key, state in offsets.items():
        if not isinstance(key, str) or (key != name and not key.startswith(name + "/")):
            raise AdminError("offsets", f"keys must be {name} or {name}/<part>")
        if not isinstance(state, dict):
            raise AdminError(f"offsets.{key}", "must be a JSON object")
        checked[key] = state
    return checked


async def reset_offsets(
    bootstrap: str,
    catalog: TopicCatalog,
    name: str,
    to: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Delete every checkpoint of ``name`` (it starts over) or replace them by ``to``.

    Returns the checkpoints as they are after the reset. One transaction: a
    reader sees the old checkpoints or the new ones, never a mix.
    """
    current = await read_offsets(bootstrap, catalog, name)
    wanted = dict(to or {})
    records: list[tuple[str, bytes | None]] = [(k, None) for k in current if k not in wanted]
    records += [(key, checkpoint_value(dict(state))) for key, state in wanted.items()]
    if not records:
        return {}
    producer = transactional_producer(
        bootstrap,
        catalog.connector_transactional_id(name),
        client_id=catalog.client_id("admin.offsets"),
    )
    try:
        await producer.start()
        async with producer.transaction():
            for key, value in records:
                await producer.send(catalog.checkpoints, value=value, key=key.encode(), partition=0)
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"resetting offsets of {name} failed: {type(exc).__name__}"
        ) from exc
    finally:
        await producer.stop()
    return await read_offsets(bootstrap, catalog, name)
