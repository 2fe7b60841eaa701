"""Errors of the connectors, each saying through ``retriable`` whether a retry may help.

The error-resolution table (:mod:`connectors.resolution`) turns upstream answers
into these; the retry policy (:mod:`connectors.retry`) retries exactly the
retriable ones. Messages name the upstream and the reason, never personal data.
"""

from __future__ import annotations

from core.errors import ConfigError, UnionhubError


class ConnectorError(UnionhubError):
    """Base of every connector failure."""


class UpstreamConfigError(ConfigError, ConnectorError):
    """The upstream refused our configuration (credentials, signature): retrying cannot help."""


class TransientUpstreamError(ConnectorError):
    """The upstream failed in a way that may pass (5xx, dropped connection, busy).

    ``retry_after`` is the upstream's own wait in seconds when it gave one;
    ``min_wait_s`` is a floor the retry policy grows from (e.g. hotline 42901).
    """

    retriable = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, min_wait_s: float = 0.0
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.min_wait_s = min_wait_s


class RateLimitedError(TransientUpstreamError):
    """The upstream asked us to slow down (429, hotline 42901)."""


class TokenExpiredError(TransientUpstreamError):
    """The access token is no longer valid: get a new one and repeat the call."""


class CursorExpiredError(ConnectorError):
    """A paging cursor is too old (citizen_app 410): resume from a time instead."""


class TornDownloadError(TransientUpstreamError):
    """A download's bytes do not match the checksum the upstream announced."""


class MalformedResponseError(TransientUpstreamError):
    """A whole response could not be parsed (truncated or garbled); fetch it again."""


class UnexpectedResponseError(ConnectorError):
    """The upstream answered something its contract does not allow; not retried."""


class UpstreamRefusedError(ConnectorError):
    """The upstream refused a request for good (a reply to an unknown or closed record).

    ``answer`` is the upstream's own answer (status or business code and its
    message), kept for the dead letter; it never holds what we sent.
    """

    def __init__(self, message: str, *, answer: str) -> None:
        super().__init__(message)
        self.answer = answer


class IntakeCommitError(ConnectorError):
    """A Kafka transaction failed or timed out; its outcome must be read back from Kafka."""

    retriable = True


class ProducerFencedError(ConnectorError):
    """Another instance of this connector took over its transactional id: stop."""
