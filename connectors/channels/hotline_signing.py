"""The 12351 open API's request signing, exactly as channels.md defines it.

``string_to_sign = METHOD "\\n" PATH "\\n" CANONICAL_QUERY``, the canonical
query being every parameter except ``sign``, sorted by name, each name and
value percent-encoded (RFC 3986 unreserved characters kept, space as %20),
joined with ``&``; ``sign`` is the lowercase hex HMAC-SHA256 of it under the
app secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from urllib.parse import quote

_ALPHANUMERICS = string.ascii_letters + string.digits


def _encode(value: str) -> str:
    # quote() keeps exactly RFC 3986's unreserved set (ALPHA DIGIT - . _ ~) with safe="".
    return quote(value, safe="")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters except ``sign``, sorted by name, percent-encoded, joined with ``&``."""
    return "&".join(
        f"{_encode(name)}={_encode(params[name])}" for name in sorted(params) if name != "sign"
    )


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD\\nPATH\\nCANONICAL_QUERY`` (no trailing newline)."""
    return f"{method.upper()}\n{path}\n{canonical_query(params)}"


def sign(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    """Lowercase hex HMAC-SHA256 of :func:`string_to_sign` under ``secret``."""
    message = string_to_sign(method, path, params).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """16 random alphanumerics from a cryptographic source."""
    return "".join(secrets.choice(_ALPHANUMERICS) for _ in range(16))


def signed_query(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    """The full query string to send: the canonical query plus ``&sign=...``."""
    return f"{canonical_query(params)}&sign={sign(secret, method, path, params)}"
