"""Secret references in connector configs, and masking of secrets for display.

Configs are stored as the admin wrote them: a secret is normally a reference,
``${env:NAME}`` or ``${file:PATH}``, resolved only where it is used. A literal
secret is stored too (the admin's choice) but must never be shown; every
display goes through :func:`mask_secrets`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "********"

_REFERENCE = re.compile(r"\$\{(env|file):[^}]+\}")


def is_secret_reference(value: object) -> bool:
    """True when ``value`` is exactly one ``${env:NAME}`` or ``${file:PATH}`` reference."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def mask_secrets(config: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """A copy of ``config`` fit for display: every value under a secret key is ``MASK``.

    A key counts at any depth (a nested ``auth.password`` is masked when
    ``password`` is a secret key), and a whole sub-object under a secret key is
    masked as one. References are masked as well: a path or variable name
    says more about the deployment than a display needs.
    """
    keys = frozenset(secret_keys)
    return {key: _masked(key, value, keys) for key, value in config.items()}


def literal_secret_paths(config: Mapping[str, Any], secret_keys: Iterable[str]) -> list[str]:
    """Dotted paths of secret values given literally instead of as references.

    Stored as given, but the admin layer may warn about them (and should
    register them with the log masker once the connector loads them).
    """
    keys = frozenset(secret_keys)
    found: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                if key in keys and value is not None and not is_secret_reference(value):
                    found.append(where)
                else:
                    visit(value, where)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{path}[{index}]")

    visit(config, "")
    return found


def _masked(key: str, value: Any, keys: frozenset[str]) -> Any:
    if key in keys and value is not None:
        return MASK
    if isinstance(value, Mapping):
        return {k: _masked(k, v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [
            {k: _masked(k, v, keys) for k, v in item.items()} if isinstance(item, Mapping) else item
            for item in value
        ]
    return value
