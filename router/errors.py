"""The router's errors: one root, :class:`RouterError`, under the project's ``UnionhubError``.

Messages name the fields at fault, never their values (they may be personal data).
"""

from __future__ import annotations

from core.errors import UnionhubError


class RouterError(UnionhubError):
    """Base of every error the router raises on purpose."""


class NormalizeError(RouterError):
    """A raw record the router cannot understand; ``kind`` classifies it for dead letters.

    The message names the fields at fault, never their values.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class UnreadableRecordError(NormalizeError):
    """An input record whose channel cannot even be told (not a router input)."""
