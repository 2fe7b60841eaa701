"""Errors of the ground-truth checker."""

from __future__ import annotations

from core.errors import UnionhubError


class ExpectationsError(UnionhubError):
    """The expectations file is missing, not JSON, or lacks a field the checker needs."""
