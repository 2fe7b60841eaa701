"""Errors of the connector admin layer, each with the HTTP status the REST API answers."""

from __future__ import annotations

from core.errors import UnionhubError


class AdminError(UnionhubError):
    """A refused admin request: ``status`` is its HTTP status, ``field`` the culprit."""

    status: int = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConnectorExistsError(AdminError):
    """A connector of that name is already stored (POST /connectors)."""

    status = 409


class NotPausedError(AdminError):
    """Offsets may only be reset while the connector is paused and stopped (as KIP-875)."""

    status = 409


class UnknownChannelError(AdminError):
    """No connector type serves that channel."""

    status = 404


class UpstreamCheckError(AdminError):
    """The live check failed: the upstream did not answer or refused the credentials."""

    status = 400
