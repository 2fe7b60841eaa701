"""The five channels' authentication schemes, as their operators define them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote

TOKEN_TTL_S = 600
TIMESTAMP_WINDOW_MS = 300_000


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Every parameter except ``sign``, sorted, RFC 3986-encoded, joined with ``&``."""
    pairs = sorted((k, v) for k, v in params if k != "sign")
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def string_to_sign(method: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD \\n PATH \\n CANONICAL_QUERY`` of the hotline's open API."""
    return f"{method.upper()}\n{path}\n{canonical_query(params)}"


def sign(secret: str, method: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign, keyed by the app secret."""
    msg = string_to_sign(method, path, params).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class TokenStore:
    """OAuth2 client-credentials tokens with a fixed lifetime (monotonic clock)."""

    def __init__(self, ttl_s: float = TOKEN_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        """A new bearer token valid for ``ttl_s`` seconds."""
        now = time.monotonic()
        self._expiry = {t: e for t, e in self._expiry.items() if e > now}
        token = secrets.token_urlsafe(24)
        self._expiry[token] = now + self.ttl_s
        return token

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        expiry = self._expiry.get(token)
        return expiry is not None and expiry > time.monotonic()

    def revoke(self, token: str) -> None:
        """Expire ``token`` now (a simulated early expiry)."""
        self._expiry.pop(token, None)

    def revoke_all(self) -> None:
        """Expire every token issued so far (the client secret was rotated)."""
        self._expiry.clear()


class NonceRegistry:
    """Nonces seen within the timestamp window; a nonce may never be used twice."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def use(self, nonce: str) -> bool:
        """Record ``nonce``; False when it was already used."""
        now = time.monotonic()
        if len(self._seen) > 10_000:
            horizon = now - 2 * TIMESTAMP_WINDOW_MS / 1000
            self._seen = {n: t for n, t in self._seen.items() if t > horizon}
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def basic_ok(header: str | None, username: str, password: str) -> bool:
    """Whether an ``Authorization: Basic ...`` header carries these credentials."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, pwd = decoded.partition(":")
    return bool(sep) and hmac.compare_digest(user, username) and hmac.compare_digest(pwd, password)


def bearer(header: str | None, scheme: str) -> str | None:
    """The credential of ``Authorization: <scheme> <credential>``, if that is the scheme."""
    if not header:
        return None
    got, _, value = header.partition(" ")
    return value.strip() if got == scheme and value.strip() else None
