"""The connector admin operations, one module under both the CLI and the REST API.

Configs and target states live in the config topic (:class:`ConfigStore`),
checkpoints in the checkpoints topic, statuses in the status topic. Every
answer is plain JSON-able data with secrets masked; every refusal is an
:class:`AdminError` (or a config store error) naming the field and the reason.

Restart is a re-write of the stored config: it is a new record of the config
topic, which every daemon applies as a reconfiguration (stop, rebuild, start,
backoff forgotten), so it works from a CLI with no connection to the daemon.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from connectors.base import SourceContext
from connectors.config import is_sink, reply_refusal
from connectors.secrets import SecretResolver
from core.errors import ConfigError
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from unionhub.admin.errors import (
    AdminError,
    ConnectorExistsError,
    NotPausedError,
    UnknownChannelError,
    UpstreamCheckError,
)
from unionhub.admin.livecheck import check_upstream
from unionhub.admin.offsets import check_new_offsets, read_offsets, reset_offsets
from unionhub.admin.statustopic import (
    ConnectorState,
    ConnectorStatus,
    is_fresh,
    read_statuses,
)
from unionhub.admin.validation import (
    FieldProblem,
    ShapeOnlyResolver,
    secret_keys,
    validate_config,
)
from unionhub.configstore import (
    ConfigStore,
    InvalidConnectorNameError,
    StoredConnector,
    TargetState,
    UnknownConnectorError,
    check_name,
    mask_secrets,
)

LocalStatus = Callable[[str], ConnectorStatus | None]
"""The daemon's own view of a connector it runs (fresher than the status topic)."""


class AdminService:
    """Connector admin over Kafka: configs, target states, statuses and checkpoints.

    ``environ`` resolves ``${env:NAME}`` references for the live check (the CLI
    passes the process environment, read once at the top).
    """

    def __init__(
        self,
        settings: Settings,
        store: ConfigStore,
        environ: Mapping[str, str],
        *,
        local_status: LocalStatus | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._catalog = TopicCatalog(settings.namespace)
        self._resolver = SecretResolver(dict(environ), settings.secrets_dir)
        self._shape_resolver = ShapeOnlyResolver({}, settings.secrets_dir)
        self._local_status = local_status
        self._secret_keys = secret_keys()

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> AsyncIterator[AdminService]:
        """A service with its own started config store (for the CLI), stopped on exit."""
        store = ConfigStore.for_settings(settings, validate=shape_validator(settings))
        async with store:
            yield cls(settings, store, dict(os.environ) if environ is None else environ)

    # -- reads ---------------------------------------------------------------
    async def list_names(self) -> list[str]:
        """Names of every stored connector, sorted."""
        return sorted(await self._store.snapshot())

    async def get_config(self, name: str) -> dict[str, Any]:
        """``name``'s config as stored, secrets masked."""
        return self.masked((await self._require(name)).config)

    async def describe(self, name: str) -> dict[str, Any]:
        """Config (masked), target state and status of ``name``, as ``GET /connectors/{name}``."""
        stored = await self._require(name)
        return {
            "name": name,
            "config": self.masked(stored.config),
            "target_state": stored.target_state.value,
            "status": await self._status_json(stored),
        }

    async def status(self, name: str) -> dict[str, Any]:
        """``name``'s status in Kafka Connect's shape plus unionhub's counters."""
        return await self._status_json(await self._require(name))

    async def offsets(self, name: str) -> dict[str, Any]:
        """``name``'s committed checkpoints: ``{"offsets": [{"key", "checkpoint"}]}``."""
        await self._require(name)
        found = await read_offsets(self._settings.kafka_bootstrap, self._catalog, name)
        return {"offsets": [{"key": k, "checkpoint": v} for k, v in sorted(found.items())]}

    # -- writes --------------------------------------------------------------
    async def create(self, config: object) -> dict[str, Any]:
        """Store a new connector; refused (409) if one of that name exists."""
        name = self._name_of(config)
        if name in await self._store.snapshot():
            raise ConnectorExistsError("name", f"connector {name} already exists")
        await self._put(name, config)
        return await self.describe(name)

    async def put_config(self, name: str, config: object) -> tuple[bool, dict[str, Any]]:
        """Create or replace ``name``'s config; True when it was created."""
        check_name(name)
        if isinstance(config, Mapping) and "name" not in config:
            config = {"name": name, **config}
        if self._name_of(config) != name:
            raise AdminError("name", "the config's name differs from the URL's")
        created = name not in await self._store.snapshot()
        await self._put(name, config)
        return created, await self.describe(name)

    async def pause(self, name: str) -> None:
        """Pause ``name``: its daemon stops polling it."""
        await self._store.set_target_state(name, TargetState.PAUSED)

    async def resume(self, name: str) -> None:
        """Resume ``name``."""
        await self._store.set_target_state(name, TargetState.RUNNING)

    async def restart(self, name: str) -> None:
        """Restart ``name`` (also a FAILED one, at once, without waiting for its backoff)."""
        stored = await self._require(name)
        await self._store.put(name, stored.config)

    async def remove(self, name: str) -> None:
        """Delete ``name``; its daemon stops it. Its checkpoints stay (re-adding resumes)."""
        await self._store.delete(name)

    async def reset_offsets(self, name: str, to: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete (or set, with ``to``) ``name``'s checkpoints; only while it is paused."""
        stored = await self._require(name)
        if stored.target_state is not TargetState.PAUSED:
            raise NotPausedError("target_state", "offsets can only be reset while paused")
        status = await self._current_status(name)
        stopped = (ConnectorState.PAUSED, ConnectorState.FAILED, ConnectorState.STOPPED)
        if status is not None and is_fresh(status.updated_at) and status.state not in stopped:
            raise NotPausedError(
                "state", f"connector is still {status.state}; wait until it shows PAUSED"
            )
        new = check_new_offsets(name, to) if to is not None else None
        after = await reset_offsets(self._settings.kafka_bootstrap, self._catalog, name, new)
        return {"offsets": [{"key": k, "checkpoint": v} for k, v in sorted(after.items())]}

    # -- validation ----------------------------------------------------------
    async def validate(
        self, config: object, *, channel: str | None = None, live: bool = True
    ) -> dict[str, Any]:
        """Every field problem of ``config`` and, if none, the live check's outcome.

        ``channel`` (the REST path's) must name a known channel and match the
        config's. Secret references are resolved in this process's environment.
        """
        if channel is not None:
            if channel not in {c.value for c in Channel}:
                raise UnknownChannelError("channel", f"no connector type for channel {channel}")
            if isinstance(config, Mapping):
                if config.get("channel", channel) != channel:
                    raise AdminError("channel", "differs from the channel of the URL")
                config = {**config, "channel": channel}
        outcome = validate_config(config, self._resolver)
        problems = list(outcome.problems)
        live_result: dict[str, Any] = {"checked": False}
        if outcome.config is not None and live:
            try:
                await check_upstream(outcome.config, SourceContext.from_settings(self._settings))
            except UpstreamCheckError as exc:
                problems.append(FieldProblem(exc.field, exc.reason))
                live_result = {"checked": True, "ok": False}
            else:
                live_result = {"checked": True, "ok": True}
        name = config.get("channel") if isinstance(config, Mapping) else None
        return {
            "name": name if isinstance(name, str) else None,
            "error_count": len(problems),
            "errors": [p.as_json() for p in problems],
            "live_check": live_result,
        }

    # -- helpers ---------------------------------------------------------------
    def masked(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every secret (literal or reference) masked."""
        return mask_secrets(config, self._secret_keys)

    async def _put(self, name: str, config: object) -> None:
        outcome = validate_config(config, self._shape_resolver)
        if not outcome.ok:
            first = outcome.problems[0]
            detail = "; ".join(f"{p.field}: {p.reason}" for p in outcome.problems)
            raise AdminError(first.field, detail if len(outcome.problems) > 1 else first.reason)
        if outcome.sink is not None:
            await self._check_sink(outcome.sink.connector, outcome.sink.channel)
        if isinstance(config, Mapping):  # always, once validate_config accepted it
            await self._store.put(name, dict(config))

    async def _check_sink(self, connector: str, channel: str | None) -> None:
        """A sink needs a stored source connector with reply credentials; say why not."""
        stored = (await self._store.snapshot()).get(connector)
        if stored is None or is_sink(stored.config):
            raise AdminError("connector", f"no source connector named {connector}: no sink")
        upstream = validate_config(stored.config, self._shape_resolver).config
        why = reply_refusal(upstream) if upstream is not None else "its config is invalid"
        if why is not None:
            raise AdminError("connector", f"{why}: no sink")
        if channel is not None and upstream is not None and channel != upstream.channel:
            raise AdminError("channel", f"differs from connector {connector}'s")

    def replies_of(self, stored: StoredConnector, names: list[str]) -> dict[str, Any] | None:
        """For a source: whether a reply sink can use it, why not, and the sinks that do."""
        if is_sink(stored.config):
            return None
        upstream = validate_config(stored.config, self._shape_resolver).config
        why = reply_refusal(upstream) if upstream is not None else "its config is invalid"
        return {"possible": why is None, "reason": why, "sinks": names}

    def _name_of(self, config: object) -> str:
        if not isinstance(config, Mapping):
            raise AdminError("config", "must be a mapping")
        name = config.get("name")
        if not isinstance(name, str):
            raise AdminError("name", "is required")
        try:
            return check_name(name)
        except InvalidConnectorNameError as exc:
            raise AdminError("name", exc.reason) from None

    async def _require(self, name: str) -> StoredConnector:
        stored = await self._store.get(name)
        if stored is None:
            raise UnknownConnectorError(name)
        return stored

    async def _current_status(self, name: str) -> ConnectorStatus | None:
        if self._local_status is not None:
            local = self._local_status(name)
            if local is not None:
                return local
        snapshot = await read_statuses(
            self._settings.kafka_bootstrap, self._catalog.connector_status
        )
        return snapshot.connectors.get(name)

    async def _status_json(self, stored: StoredConnector) -> dict[str, Any]:
        status = await self._current_status(stored.name)
        sinks = [
            name
            for name, other in (await self._store.snapshot()).items()
            if is_sink(other.config) and other.config.get("connector") == stored.name
        ]
        connector: dict[str, Any]
        if status is None:
            connector = {"state": "UNASSIGNED", "worker_id": None}
        else:
            connector = {k: v for k, v in asdict(status).items() if k not in ("name", "channel")}
            connector["state"] = status.state.value
        sink = is_sink(stored.config)
        body: dict[str, Any] = {
            "name": stored.name,
            "channel": stored.config.get("channel") or (status.channel if status else None),
            "target_state": stored.target_state.value,
            "connector": connector,
            "tasks": [],  # Kafka Connect's shape; a unionhub connector is one task
            "type": "sink" if sink else "source",
        }
        if sink:
            body["source_connector"] = stored.config.get("connector")
        else:
            body["replies"] = self.replies_of(stored, sorted(sinks))
        return body


def shape_validator(settings: Settings) -> Callable[[dict[str, Any]], object]:
    """The config store's validation hook: the shape, with references left unresolved."""
    resolver = ShapeOnlyResolver({}, settings.secrets_dir)

    def validate(config: dict[str, Any]) -> object:
        outcome = validate_config(config, resolver)
        if not outcome.ok:
            first = outcome.problems[0]
            raise ConfigError(first.field, first.reason)
        return outcome.config

    return validate
