"""What the hotline_12351 source and its reply sink share: signing every call, business codes.

:func:`signed_url` puts ``app_key``, a fresh ``timestamp`` and ``nonce`` and
the ``sign`` on a request's query (a new signature on every attempt);
:func:`check_answer` resolves the HTTP status, then the body's business code.
:data:`BUSINESS_CODES` is the open API's table; :data:`REPLY_CODES` adds what
only the feedback endpoint answers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from connectors.channels.common import json_body
from connectors.channels.hotline_signing import new_nonce, signed_query
from connectors.config import Hotline12351Config
from connectors.errors import MalformedResponseError
from connectors.resolution import Action, Resolution, ResolutionTable, parse_retry_after
from connectors.upstream import HttpResponse

TABLE = ResolutionTable("hotline_12351")
BUSINESS_CODES = ResolutionTable(
    "hotline_12351",
    {
        0: Resolution(Action.SUCCESS, "success"),
        40101: Resolution(Action.CONFIG_ERROR, "signature refused (40101): check app_key/secret"),
        40102: Resolution(Action.RETRY, "timestamp refused (40102): clock skew?"),
        40103: Resolution(Action.RETRY, "nonce refused as reused (40103)"),
        42901: Resolution(Action.RATE_LIMITED, "rate limited (42901)", min_wait_s=1.0),
        50000: Resolution(Action.RETRY, "system busy (50000)"),
    },
    business_codes=True,
)
REPLY_CODES = BUSINESS_CODES.extended(
    {
        40401: Resolution(Action.REFUSED, "unknown work order (40401)"),
        40901: Resolution(Action.REFUSED, "work order already 已办结 upstream (40901)"),
    }
)


def api_path(config: Hotline12351Config, path: str) -> str:
    """PATH as signed: the base URL's own path prefix, then ``path``."""
    return urlsplit(config.base_url).path.rstrip("/") + path


def signed_url(
    config: Hotline12351Config, method: str, path: str, params: Mapping[str, str] | None = None
) -> str:
    """``{base_url}{path}?<params + app_key, timestamp, nonce>&sign=...``, signed now."""
    full = {
        **(params or {}),
        "app_key": config.app_key,
        "timestamp": str(int(time.time() * 1000)),
        "nonce": new_nonce(),
    }
    secret = config.app_secret.get_secret_value()
    query = signed_query(secret, method, api_path(config, path), full)
    return f"{config.base_url}{path}?{query}"


def business_code(response: HttpResponse, what: str) -> int:
    """The body's business ``code``; a body without one is garbled (retried)."""
    body = json_body(response.body, what)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        raise MalformedResponseError(f"{what}: no business code")
    return code


def check_answer(response: HttpResponse, what: str, codes: ResolutionTable) -> None:
    """HTTP status first, then the business code of the body, through ``codes``."""
    TABLE.check(response.status, retry_after=parse_retry_after(response.headers.get("retry-after")))
    codes.check(business_code(response, what))
