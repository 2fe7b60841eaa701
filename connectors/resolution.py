"""The error-resolution table: what each upstream answer means for the connector.

As airbyte-cdk's error handlers, every answer an upstream can give (HTTP
status, optionally refined by an error code from its body, or a business code
of an HTTP-200 API) maps to one :class:`Action`. :meth:`ResolutionTable.check`
raises the matching :mod:`connectors.errors` exception, whose ``retriable``
flag the retry policy reads. Records that cannot be parsed are not in this
table: they become dead letters where they are parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from connectors.errors import (
    CursorExpiredError,
    RateLimitedError,
    TokenExpiredError,
    TransientUpstreamError,
    UnexpectedResponseError,
    UpstreamConfigError,
    UpstreamRefusedError,
)


class Action(StrEnum):
    """What the connector does with an upstream answer."""

    SUCCESS = "success"  # parse it
    NOT_MODIFIED = "not_modified"  # nothing new (304)
    RETRY = "retry"  # transient: back off and repeat
    RATE_LIMITED = "rate_limited"  # back off (Retry-After when given) and repeat
    REAUTHENTICATE = "reauthenticate"  # refresh credentials, repeat at once
    CURSOR_EXPIRED = "cursor_expired"  # resume paging from a time instead
    CONFIG_ERROR = "config_error"  # our configuration is wrong: stop, never loop
    REFUSED = "refused"  # this one request is refused for good (a reply: a dead letter)
    FAIL = "fail"  # a contract violation: fail the poll, do not hammer


@dataclass(frozen=True)
class Resolution:
    """One row of the table: the action and a human-readable reason."""

    action: Action
    reason: str
    min_wait_s: float = 0.0


Key = int | tuple[int, str]


def _default_http(status: int) -> Resolution:
    if 200 <= status < 300:
        return Resolution(Action.SUCCESS, "ok")
    if status == 304:
        return Resolution(Action.NOT_MODIFIED, "not modified")
    if status in (408, 425, 429):
        return Resolution(Action.RATE_LIMITED, f"HTTP {status}")
    if status >= 500:
        return Resolution(Action.RETRY, f"upstream error HTTP {status}")
    if status in (401, 403):
        return Resolution(Action.CONFIG_ERROR, f"credentials refused (HTTP {status})")
    return Resolution(Action.FAIL, f"unexpected HTTP {status}")


@dataclass(frozen=True)
class ResolutionTable:
    """Answers -> resolutions: exact ``(status, code)`` rows first, then ``status``, then defaults.

    ``upstream`` names the system in error messages.
    """

    upstream: str
    rows: Mapping[Key, Resolution] = field(default_factory=dict)
    business_codes: bool = False  # keys are business codes, not HTTP statuses

    def extended(self, rows: Mapping[Key, Resolution]) -> ResolutionTable:
        """This table with ``rows`` added (or replacing rows of the same key)."""
        return ResolutionTable(self.upstream, {**self.rows, **rows}, self.business_codes)

    def resolve(self, status: int, code: str | None = None) -> Resolution:
        """The resolution of ``status`` (refined by ``code`` when a row names it)."""
        if code is not None and (status, code) in self.rows:
            return self.rows[(status, code)]
        if status in self.rows:
            return self.rows[status]
        if self.business_codes:
            return Resolution(Action.FAIL, f"unknown business code {status}")
        return _default_http(status)

    def check(
        self, status: int, code: str | None = None, retry_after: float | None = None
    ) -> Resolution:
        """Return the resolution when it is SUCCESS or NOT_MODIFIED, else raise its error."""
        resolution = self.resolve(status, code)
        message = f"{self.upstream}: {resolution.reason}"
        match resolution.action:
            case Action.SUCCESS | Action.NOT_MODIFIED:
                return resolution
            case Action.RETRY:
                raise TransientUpstreamError(message, min_wait_s=resolution.min_wait_s)
            case Action.RATE_LIMITED:
                raise RateLimitedError(
                    message, retry_after=retry_after, min_wait_s=resolution.min_wait_s
                )
            case Action.REAUTHENTICATE:
                raise TokenExpiredError(message)
            case Action.CURSOR_EXPIRED:
                raise CursorExpiredError(message)
            case Action.CONFIG_ERROR:
                raise UpstreamConfigError(self.upstream, resolution.reason)
            case Action.REFUSED:
                raise UpstreamRefusedError(message, answer=resolution.reason)
            case _:
                raise UnexpectedResponseError(message)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds of an integer ``Retry-After`` header, or None when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
