"""Why a raw record could not be normalised (it becomes a dead letter)."""

from __future__ import annotations

from unionhub.errors import UnionhubError


class NormalizeError(UnionhubError):
    """A raw record the router cannot understand; ``kind`` classifies it for dead letters.

    The message names the fields at fault, never their values.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
