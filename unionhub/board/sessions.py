"""Board sessions: the token is posted once at login; the browser then holds a signed id.

Sessions live in the daemon's memory (a restart logs everyone out). The cookie
is ``<session id>.<HMAC-SHA256 of the id>`` under a key made when the daemon
starts, set ``HttpOnly; SameSite=Strict; Path=/board``: the token never
appears in a URL, a page or a script, and a forged or stale cookie is nobody's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "unionhub_board"
TTL_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    """Who is logged in, until when (monotonic seconds)."""

    actor: str
    expires: float


class Sessions:
    """The board's logged-in browsers."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl_s = ttl_s
        self._live: dict[str, Session] = {}

    def _sign(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()

    def open(self, actor: str) -> str:
        """A new session of ``actor``; the cookie value to set."""
        now = time.monotonic()
        self._live = {k: s for k, s in self._live.items() if s.expires > now}
        sid = secrets.token_urlsafe(24)
        self._live[sid] = Session(actor, now + self._ttl_s)
        return f"{sid}.{self._sign(sid)}"

    def actor_of(self, cookie: str | None) -> str | None:
        """The actor of a cookie value, None when it is forged, unknown or expired."""
        if not cookie or "." not in cookie:
            return None
        sid, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(sid)):
            return None
        session = self._live.get(sid)
        if session is None or session.expires <= time.monotonic():
            return None
        return session.actor

    def close(self, cookie: str | None) -> None:
        """End the session of a cookie value (logout)."""
        if cookie:
            self._live.pop(cookie.rpartition(".")[0], None)
