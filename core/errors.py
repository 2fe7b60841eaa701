"""The root of every exception unionhub raises on purpose.

Each package derives its own errors from :class:`UnionhubError` (as
``connectors.errors``, ``router.errors`` ...), so a caller can catch the whole
project's failures in one clause and still tell them apart. Like aiokafka's
errors, every class says through ``retriable`` whether trying the same thing
again may succeed. Messages never carry personal data in clear.
"""

from __future__ import annotations


class UnionhubError(Exception):
    """Base of all unionhub errors; ``retriable`` tells whether a retry may succeed."""

    retriable: bool = False


class ConfigError(UnionhubError):
    """A setting or admin-supplied config is invalid; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class KafkaSetupError(UnionhubError):
    """The local broker or the topics could not be set up (missing tool, bad state)."""


class KafkaUnavailableError(UnionhubError):
    """The broker did not answer in time; it may come back."""

    retriable = True


class KafkaAccessError(UnionhubError):
    """The brokers refused this client: TLS trust, credentials or ACLs; a retry will not help.

    The message names the setting to look at (never a secret) or the resource
    the ACLs refuse.
    """
