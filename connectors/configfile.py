"""Read a connector config document (YAML or JSON) from untrusted bytes, safely.

One loader for every door a config comes through: ``unionhub intake run``
files, ``unionhub connectors add|validate`` files and the admin API's bodies.
It bounds the size, requires UTF-8, refuses keys given twice and nesting deep
enough to exhaust the parser, and returns the top-level mapping; every refusal
is a :class:`ConfigError` naming where the document came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

MAX_CONFIG_BYTES = 1024 * 1024  # a connector config is a few hundred bytes

# libyaml's parser when PyYAML has it: hundreds of times faster on hostile input, and
# it refuses nesting deeper than 1000 where the Python composer would recurse.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe YAML that refuses a mapping naming a key twice (YAML itself keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: construct_mapping reports it
                break
            if duplicate:
                raise ConfigError(str(key)[:40], "key given twice")
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse_config_document(data: bytes, origin: str) -> Mapping[str, Any]:
    """The mapping in ``data`` (YAML, of which JSON is a subset); ``origin`` names it in errors."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(origin, f"larger than {MAX_CONFIG_BYTES} bytes")
    try:
        raw: Any = yaml.load(data.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 - safe
    except UnicodeDecodeError:
        raise ConfigError(origin, "not UTF-8 text") from None
    except yaml.YAMLError:
        raise ConfigError(origin, "not valid YAML or JSON") from None
    except RecursionError:
        raise ConfigError(origin, "nested too deeply") from None
    if not isinstance(raw, Mapping):
        raise ConfigError(origin, "must hold a mapping (name, channel, settings)")
    return raw


def read_config_file(path: Path) -> Mapping[str, Any]:
    """The mapping in the config file at ``path``, read at most one byte past the limit."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
    return parse_config_document(data, str(path))
