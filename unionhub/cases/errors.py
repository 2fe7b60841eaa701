"""Refusals of the case API, each with the HTTP status it answers (as the admin's)."""

from __future__ import annotations

from unionhub.admin.errors import AdminError


class CaseNotFoundError(AdminError):
    """No case with that id (or none the caller may see)."""

    status = 404


class ForbiddenCaseError(AdminError):
    """The case is another district's."""

    status = 403


class ActionRefusedError(AdminError):
    """The action does not fit the case's state (the router or the API said why)."""

    status = 409
