"""Who is calling: the bearer token of a district federation or of the city desk.

Tokens live in the config topic (``access-<actor>`` records, see
:mod:`unionhub.configstore.records`), normally as ``${env:}``/``${file:}``
references, resolved when a call needs them (so a rotated secret file takes
effect without a restart, and a new record within a second of its commit).
Every token is compared in constant time with every configured one.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import structlog

from connectors.secrets import SecretResolver
from core.errors import ConfigError
from core.logging import masker
from schemas.caseloop import is_actor
from unionhub.configstore import StoredAccess

log = structlog.get_logger(__name__)

MIN_LITERAL_TOKEN_CHARS = 16

TokenSource = Callable[[], dict[str, StoredAccess]]


def check_access(actor: str, token: str) -> None:
    """Refuse (naming the field) an actor that is none, or a literal token too short to hold."""
    if not is_actor(actor):
        raise ConfigError("actor", f"{actor[:40]!r} is neither a district slug nor 'city'")
    if "${" not in token and len(token) < MIN_LITERAL_TOKEN_CHARS:
        raise ConfigError("token", f"a literal token needs {MIN_LITERAL_TOKEN_CHARS}+ characters")


class ActorTokens:
    """Maps a presented bearer token to the actor it belongs to."""

    def __init__(self, tokens: TokenSource, resolver: SecretResolver) -> None:
        self._tokens = tokens
        self._resolver = resolver

    def actor_of(self, authorization: str) -> str | None:
        """The actor whose token ``Authorization: Bearer <token>`` carries, None if nobody's."""
        given = authorization.removeprefix("Bearer ").strip().encode()
        if not given or not authorization.startswith("Bearer "):
            return None
        found = None
        for actor, stored in sorted(self._tokens().items()):
            try:
                expected = self._resolver.resolve(f"access.{actor}", stored.token)
            except ConfigError as exc:
                log.warning("access token unusable", actor=actor, reason=exc.reason)
                continue
            masker().add_secret(expected)
            # Every token compared, match or not: the time says nothing of which matched.
            if hmac.compare_digest(given, expected.encode()) and found is None:
                found = actor
        return found
