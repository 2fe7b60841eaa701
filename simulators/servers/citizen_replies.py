"""``citizen_app``'s reply endpoint: ``POST /citizen/api/v2/appeals/{appeal_id}/replies``.

OAuth2 as for listing. ``201`` for a new ``reply_id``, ``200`` for one already
taken; ``404`` unknown appeal; ``409`` appeal already ``closed`` upstream;
``429``/``5xx``/dropped connections at the fault rate (and ``drop_after``: the
reply is taken but the answer lost, which only the idempotency key survives).
A taken reply appends the appeal's next version, ``status`` ``closed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from schemas.channels import Channel
from simulators.servers.auth import bearer
from simulators.servers.replies import REPLY_FAULTS, Reply
from simulators.servers.state import drop_connection, json_response

if TYPE_CHECKING:
    from simulators.servers.citizen_app import CitizenApp

CHANNEL = Channel.CITIZEN_APP.value
FAULTS = ("http_429", "http_5xx", "token_expired", *REPLY_FAULTS)
KINDS = ("resolved", "closed")
MAX_TEXT = 4000


def _invalid(field: str) -> web.Response:
    return json_response({"error": "invalid_request", "field": field}, 400)


def _body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the reply, None) or (None, the field at fault)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, "body"
    if not isinstance(body, dict):
        return None, "body"
    for name in ("reply_id", "result", "text", "replied_at"):
        value = body.get(name)
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
            return None, name
    if body.get("kind") not in KINDS:
        return None, "kind"
    try:
        datetime.fromisoformat(body["replied_at"])
    except ValueError:
        return None, "replied_at"
    return body, None


async def reply(app: CitizenApp, request: web.Request) -> web.StreamResponse:
    """Take one reply to one appeal, at most once per ``reply_id``."""
    state = app.state
    ledger = state.replies
    token = bearer(request.headers.get("Authorization"), "Bearer")
    if token is None or not app.tokens.valid(token):
        return json_response({"error": "invalid_token"}, 401)
    fault = state.faults.draw(CHANNEL, FAULTS)
    if fault == "http_429":
        return json_response({"error": "rate_limited"}, 429, **{"Retry-After": "1"})
    if fault == "http_5xx":
        return json_response({"error": "internal"}, 503)
    if fault == "drop":
        return drop_connection(request)
    if fault == "token_expired":
        app.tokens.revoke(token)
        return json_response({"error": "invalid_token"}, 401)
    body, bad = _body(await request.read())
    if body is None:
        ledger.answered(CHANNEL, "invalid")
        return _invalid(bad or "body")
    appeal_id = request.match_info["appeal_id"]
    key = body["reply_id"]
    if ledger.seen(CHANNEL, appeal_id, key):
        ledger.answered(CHANNEL, "repeat")
        return _answer(request, fault, {"reply_id": key, "appeal_id": appeal_id}, 200)
    latest = app.latest(appeal_id)
    if latest is None:
        ledger.answered(CHANNEL, "unknown")
        return json_response({"error": "appeal_not_found", "appeal_id": appeal_id}, 404)
    if latest.record.get("status") == "closed" and not ledger.by_reply(latest):
        ledger.answered(CHANNEL, "closed")
        return json_response({"error": "appeal_closed", "appeal_id": appeal_id}, 409)
    version = app.next_version(latest, "closed")
    ledger.take(
        Reply(
            CHANNEL, appeal_id, key, body["kind"], body["result"], body["text"],
            version.at, version.version,
        )
    )  # fmt: skip
    ledger.answered(CHANNEL, "taken")
    return _answer(request, fault, {"reply_id": key, "appeal_id": appeal_id}, 201)


def _answer(
    request: web.Request, fault: str | None, body: dict[str, Any], status: int
) -> web.StreamResponse:
    if fault == "drop_after":
        return drop_connection(request)  # taken, but the client never hears it
    return json_response(body, status)
