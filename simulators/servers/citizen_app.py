"""``citizen_app``: OAuth2 client credentials, an appeal change log behind an opaque cursor.

Routes under ``/citizen``: ``POST /oauth/token``, ``GET /api/v2/appeals``, the
reply endpoint ``POST /api/v2/appeals/{appeal_id}/replies``
(:mod:`simulators.servers.citizen_replies`) and ``GET /_sim/status``. The log
holds every appeal version in change order; the visible part is a prefix of it
(a change is visible from its ``updated_at``); a reply's version is inserted at
the end of the visible part, so no cursor handed out moves.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hmac
import time
from datetime import datetime, timedelta

import orjson
from aiohttp import web

from schemas.channels import Channel
from simulators.scenario.clock import iso_cst
from simulators.scenario.generator import CST
from simulators.scenario.model import RecordVersion
from simulators.servers import citizen_replies
from simulators.servers.auth import TOKEN_TTL_S, TokenStore, bearer
from simulators.servers.replies import append_version, status_route, withdraw_unreleased
from simulators.servers.state import ServerState, drop_connection, json_response

PREFIX = "/citizen"
CURSOR_TTL_S = 24 * 3600
FAULTS = ("http_429", "http_5xx", "drop", "token_expired", "cursor_expired")
CHANNEL = Channel.CITIZEN_APP.value


class CitizenApp:
    """Serves the appeal feed of one scenario."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.tokens = TokenStore()
        state.token_stores[CHANNEL] = self.tokens
        self.log = sorted(
            (v for v in state.scenario.versions if v.channel == Channel.CITIZEN_APP),
            key=lambda v: (v.at, v.external_id, v.version),
        )
        self._index()

    def _index(self) -> None:
        self.visible_at = [v.visible_at for v in self.log]
        self.ats = [v.at for v in self.log]

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the simulator app."""
        return [
            web.post(PREFIX + "/oauth/token", self.token),
            web.get(PREFIX + "/api/v2/appeals", self.appeals),
            web.post(PREFIX + "/api/v2/appeals/{appeal_id}/replies", self.reply),
            status_route(self.state, PREFIX, CHANNEL),
        ]

    async def reply(self, request: web.Request) -> web.StreamResponse:
        """``POST .../appeals/{appeal_id}/replies`` (see :mod:`citizen_replies`)."""
        return await citizen_replies.reply(self, request)

    def latest(self, appeal_id: str) -> RecordVersion | None:
        """The appeal's newest version served now, if any."""
        visible = self.log[: self._visible_count()]
        return next((v for v in reversed(visible) if v.external_id == appeal_id), None)

    def next_version(self, latest: RecordVersion, status: str) -> RecordVersion:
        """Log the appeal's next version with ``status``, now; its unreleased ones withdrawn.

        It goes at the end of the visible part of the log (never before the last
        visible change), so no cursor handed out moves.
        """
        visible = self._visible_count()
        now = self.state.now()
        at = max(now, self.ats[visible - 1]) if visible else now
        number = int(latest.record["version"]) + 1
        record = latest.record | {"version": number, "updated_at": iso_cst(at), "status": status}
        withdraw_unreleased(self.state, CHANNEL, latest.external_id)
        version = append_version(self.state, latest, record, str(number), at)
        later = [v for v in self.log[visible:] if v.external_id != latest.external_id]
        self.log = [*self.log[:visible], version, *later]
        self._index()
        return version

    def close_upstream(self, appeal_id: str) -> RecordVersion | None:
        """The platform closes the appeal itself (its next version ``closed``); None if unknown."""
        latest = self.latest(appeal_id)
        return None if latest is None else self.next_version(latest, "closed")

    async def token(self, request: web.Request) -> web.Response:
        """Client-credentials grant."""
        form = await request.post()
        creds = self.state.credentials
        ok = (
            form.get("grant_type") == "client_credentials"
            and hmac.compare_digest(str(form.get("client_id", "")), creds["citizen_client_id"])
            and hmac.compare_digest(
                str(form.get("client_secret", "")), creds["citizen_client_secret"]
            )
        )
        if not ok:
            return json_response({"error": "invalid_client"}, 401)
        token = self.tokens.issue()
        return json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S}
        )

    def _visible_count(self) -> int:
        if self.state.released_all:
            return len(self.log)
        return bisect.bisect_right(self.visible_at, self.state.now())

    async def appeals(self, request: web.Request) -> web.StreamResponse:
        """One page of the change log."""
        token = bearer(request.headers.get("Authorization"), "Bearer")
        if token is None or not self.tokens.valid(token):
            return json_response({"error": "invalid_token"}, 401)
        q = request.query
        fault = self.state.faults.draw(CHANNEL, FAULTS if "cursor" in q else FAULTS[:4])
        if fault == "http_429":
            return json_response({"error": "rate_limited"}, 429, **{"Retry-After": "1"})
        if fault == "http_5xx":
            return json_response(
                {"error": "internal"}, 503 if self.state.faults.chance(0.5) else 500
            )
        if fault == "drop":
            return drop_connection(request)
        if fault == "token_expired":
            self.tokens.revoke(token)
            return json_response({"error": "invalid_token"}, 401)
        if fault == "cursor_expired":
            return json_response({"error": "cursor_expired"}, 410)
        try:
            limit = int(q.get("limit", "50"))
        except ValueError:
            return json_response({"error": "invalid_request", "field": "limit"}, 400)
        if not 1 <= limit <= 200:
            return json_response({"error": "invalid_request", "field": "limit"}, 400)
        if "cursor" in q:
            decoded = _decode_cursor(q["cursor"])
            if decoded is None:
                return json_response({"error": "invalid_request", "field": "cursor"}, 400)
            pos, issued = decoded
            if time.time() - issued > CURSOR_TTL_S:
                return json_response({"error": "cursor_expired"}, 410)
        elif "since" in q:
            since = _parse_since(q["since"])
            if since is None:
                return json_response({"error": "invalid_request", "field": "since"}, 400)
            pos = bisect.bisect_left(self.ats, since)
        else:
            pos = 0
        end = min(pos + limit, self._visible_count())
        page = self.log[pos:end] if end > pos else []
        return json_response(
            {
                "data": [v.record for v in page],
                "next_cursor": _encode_cursor(max(pos, end)),
                "has_more": end < self._visible_count(),
            }
        )


def _encode_cursor(pos: int) -> str:
    raw = orjson.dumps({"p": pos, "i": int(time.time())})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        pos, issued = data["p"], data["i"]
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(pos, int) or not isinstance(issued, int) or pos < 0:
        return None
    return pos, issued


def _parse_since(value: str) -> datetime | None:
    """ISO-8601; a space where the offset's ``+`` should be means it was not encoded."""
    if " " in value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CST)
    return parsed - timedelta(0)
