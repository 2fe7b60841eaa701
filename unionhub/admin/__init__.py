"""Connector admin: one service (:class:`AdminService`) under the CLI and the REST API."""

from unionhub.admin.errors import (
    AdminError,
    ConnectorExistsError,
    NotPausedError,
    UnknownChannelError,
    UpstreamCheckError,
)
from unionhub.admin.service import AdminService, shape_validator

__all__ = [
    "AdminError",
    "AdminService",
    "ConnectorExistsError",
    "NotPausedError",
    "UnknownChannelError",
    "UpstreamCheckError",
    "shape_validator",
]
