"""What the config topic holds: keys, JSON values, and the state they fold into.

Like Kafka Connect's config topic, two kinds of records share one partition:

- ``connector-<name>``: the connector's config as the admin gave it
  (``{"schema": "unionhub.connector-config/1", "config": {...}, "updated_at": ...}``);
- ``target-state-<name>``: whether it should run
  (``{"schema": "unionhub.connector-target-state/1", "state": "PAUSED", ...}``);
- ``access-<actor>``: the bearer token of a district federation or the city desk
  for the case API and the board (``{"schema": "unionhub.access-token/1", "token":
  "${file:...}", ...}``), stored like connector secrets: normally a reference.

A record with no value (a tombstone) deletes its key. A connector with no
target-state record runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import orjson

from unionhub.configstore.errors import InvalidConnectorNameError

CONFIG_SCHEMA = "unionhub.connector-config/1"
TARGET_STATE_SCHEMA = "unionhub.connector-target-state/1"
ACCESS_SCHEMA = "unionhub.access-token/1"
CONFIG_PREFIX = "connector-"
TARGET_STATE_PREFIX = "target-state-"
ACCESS_PREFIX = "access-"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class _BadRecordError(Exception):
    """A record of the config topic that cannot be understood (reason only, no value)."""


class TargetState(StrEnum):
    """What the admin wants a connector to do."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid connector name, else raise.

    Names are 1-100 characters of ``[A-Za-z0-9_.-]`` starting with a letter or
    digit (as connector config models require), so they are safe in record
    keys, URLs, metric labels and file names.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidConnectorNameError(
            "use 1-100 characters of A-Z a-z 0-9 _ . - starting with a letter or digit"
        )
    return name


def config_key(name: str) -> bytes:
    """Record key of ``name``'s config."""
    return f"{CONFIG_PREFIX}{check_name(name)}".encode()


def target_state_key(name: str) -> bytes:
    """Record key of ``name``'s target state."""
    return f"{TARGET_STATE_PREFIX}{check_name(name)}".encode()


def access_key(actor: str) -> bytes:
    """Record key of ``actor``'s access token (the caller checks the actor name)."""
    return f"{ACCESS_PREFIX}{actor}".encode()


def encode_access(token: str, at: datetime) -> bytes:
    """Value of an access-token record (``token``: a secret reference or a literal)."""
    return orjson.dumps({"schema": ACCESS_SCHEMA, "token": token, "updated_at": at.isoformat()})


def encode_config(config: dict[str, Any], at: datetime) -> bytes:
    """Value of a config record."""
    return orjson.dumps({"schema": CONFIG_SCHEMA, "config": config, "updated_at": at.isoformat()})


def encode_target_state(state: TargetState, at: datetime) -> bytes:
    """Value of a target-state record."""
    return orjson.dumps(
        {"schema": TARGET_STATE_SCHEMA, "state": state.value, "updated_at": at.isoformat()}
    )


@dataclass(frozen=True)
class StoredConnector:
    """A connector as the config topic says it is now.

    ``offset`` is the offset of the last record that changed it: equal offsets
    mean the same config and target state.
    """

    name: str
    config: dict[str, Any]
    target_state: TargetState
    offset: int
    updated_at: datetime | None = None  # when the config (not the target state) was written


@dataclass(frozen=True)
class StoredAccess:
    """An actor's access token as stored: a secret reference (or literal), never shown."""

    actor: str
    token: str
    offset: int


ChangeKind = Literal["config", "target_state", "deleted"]


@dataclass(frozen=True)
class ConfigChange:
    """One change of one connector, in the order of the config topic.

    ``kind`` is ``config`` (created or reconfigured), ``target_state`` (paused
    or resumed) or ``deleted``; ``connector`` is its new state, None when deleted.
    """

    kind: ChangeKind
    name: str
    connector: StoredConnector | None
    offset: int


@dataclass(frozen=True)
class RejectedRecord:
    """A record of the config topic that could not be understood, and why."""

    offset: int
    reason: str


@dataclass
class ConfigState:
    """The fold of the config topic: applies records in order, reports changes."""

    connectors: dict[str, StoredConnector] = field(default_factory=dict)
    # Target states of every key seen, including those whose config is absent
    # (written before the config in the same transaction, or left after a delete).
    target_states: dict[str, TargetState] = field(default_factory=dict)
    access: dict[str, StoredAccess] = field(default_factory=dict)
    rejected: list[RejectedRecord] = field(default_factory=list)

    def apply(self, key: bytes | None, value: bytes | None, offset: int) -> ConfigChange | None:
        """Apply one record; the change it makes, or None if it changes no connector.

        A record that cannot be understood changes nothing and is kept in
        ``rejected`` (with the reason, never the value) for the caller to report.
        """
        try:
            return self._apply(key, value, offset)
        except (_BadRecordError, InvalidConnectorNameError) as exc:
            self.rejected.append(RejectedRecord(offset, str(exc)))
            return None

    def _apply(self, key: bytes | None, value: bytes | None, offset: int) -> ConfigChange | None:
        text = (key or b"").decode("utf-8", errors="replace")
        if text.startswith(CONFIG_PREFIX):
            name = check_name(text.removeprefix(CONFIG_PREFIX))
            return self._apply_config(name, value, offset)
        if text.startswith(TARGET_STATE_PREFIX):
            name = check_name(text.removeprefix(TARGET_STATE_PREFIX))
            return self._apply_target_state(name, value, offset)
        if text.startswith(ACCESS_PREFIX):
            self._apply_access(check_name(text.removeprefix(ACCESS_PREFIX)), value, offset)
            return None  # no connector changes; readers look the tokens up when they need them
        raise _BadRecordError("key is not connector-, target-state- or access-<name>")

    def _apply_access(self, actor: str, value: bytes | None, offset: int) -> None:
        if value is None:
            self.access.pop(actor, None)
            return
        token = _decode(value, ACCESS_SCHEMA).get("token")
        if not isinstance(token, str) or not token:
            raise _BadRecordError("access record without a token")
        self.access[actor] = StoredAccess(actor, token, offset)

    def _apply_config(self, name: str, value: bytes | None, offset: int) -> ConfigChange | None:
        if value is None:
            if self.connectors.pop(name, None) is None:
                return None
            return ConfigChange("deleted", name, None, offset)
        body = _decode(value, CONFIG_SCHEMA)
        config = body.get("config")
        if not isinstance(config, dict):
            raise _BadRecordError("config record without a config object")
        connector = StoredConnector(
            name=name,
            config=config,
            target_state=self.target_states.get(name, TargetState.RUNNING),
            offset=offset,
            updated_at=_timestamp(body.get("updated_at")),
        )
        self.connectors[name] = connector
        return ConfigChange("config", name, connector, offset)

    def _apply_target_state(
        self, name: str, value: bytes | None, offset: int
    ) -> ConfigChange | None:
        if value is None:
            state = TargetState.RUNNING
            self.target_states.pop(name, None)
        else:
            body = _decode(value, TARGET_STATE_SCHEMA)
            try:
                state = TargetState(str(body.get("state")))
            except ValueError:
                raise _BadRecordError("target state is neither RUNNING nor PAUSED") from None
            self.target_states[name] = state
        current = self.connectors.get(name)
        if current is None or current.target_state is state:
            return None
        connector = replace(current, target_state=state, offset=offset)
        self.connectors[name] = connector
        return ConfigChange("target_state", name, connector, offset)


def _decode(value: bytes, schema: str) -> dict[str, Any]:
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise _BadRecordError("value is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRecordError("value is not a JSON object")
    if body.get("schema") != schema:
        raise _BadRecordError(f"value schema is not {schema}")
    return body


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
