"""Upstream storms: one channel misbehaving far beyond the fault rate, until told to stop.

A storm is a kind and a rate: while it lasts, each request to the channel's
paths is hit with probability ``rate`` (seeded draws, counted as
``<channel>.storm_<kind>`` in ``fault_counts()``). It is applied by an aiohttp
middleware in front of the channel servers, so it needs nothing from them:

* ``http_5xx`` answers 503, ``http_429`` answers 429 with ``Retry-After: 1``,
  ``drop`` closes the connection, ``hang`` keeps the request open past any
  client timeout (:data:`simulators.servers.state.HANG_S`);
* ``torn`` (``petition_window`` only) cuts a successful CSV download to two
  thirds of its bytes, so its sha256 does not match the listing;
* ``reply_429``, ``reply_5xx``, ``reply_drop``, ``reply_hang`` (``citizen_app``
  and ``hotline_12351``) hit only the reply endpoints, beside any listing storm:
  citizen_app answers 429 + ``Retry-After: 1`` / 503, the hotline its business
  codes 42901 / 50000 (HTTP 200, as its open API always answers); ``reply_lost``
  lets the reply be taken, then holds the answer open and drops it (a crash
  between send and commit, seen from the upstream).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from schemas.channels import Channel
from simulators.servers import citizen_app, hotline, legal_stations, petition_window, provincial
from simulators.servers.state import ServerState, drop_connection, json_response

REPLY_STORM_KINDS = ("reply_429", "reply_5xx", "reply_drop", "reply_hang", "reply_lost")
STORM_KINDS = ("http_5xx", "http_429", "drop", "hang", "torn", *REPLY_STORM_KINDS)
TORN_CHANNELS = frozenset({Channel.PETITION_WINDOW.value})
REPLY_CHANNELS = frozenset({Channel.CITIZEN_APP.value, Channel.HOTLINE_12351.value})
REPLY_PATH_ENDS = ("/replies", "/feedback")
PREFIXES = {
    citizen_app.PREFIX: citizen_app.CHANNEL,
    petition_window.PREFIX: petition_window.CHANNEL,
    hotline.PREFIX: hotline.CHANNEL,
    provincial.PREFIX: provincial.CHANNEL,
    legal_stations.PREFIX: legal_stations.CHANNEL,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Storm:
    """What a storming channel does: ``kind`` to a share ``rate`` of its requests."""

    kind: str
    rate: float

    def __post_init__(self) -> None:
        if self.kind not in STORM_KINDS:
            raise ValueError(f"storm kind must be one of {STORM_KINDS}")
        if not 0.0 < self.rate <= 1.0:
            raise ValueError("storm rate must lie in (0, 1]")


def check_storm(channel: str, storm: Storm) -> None:
    """Raise ValueError unless ``storm`` can blow on ``channel``."""
    if channel not in PREFIXES.values():
        raise ValueError(f"unknown channel {channel!r}")
    if storm.kind == "torn" and channel not in TORN_CHANNELS:
        raise ValueError("only petition_window downloads can be torn")
    if storm.kind in REPLY_STORM_KINDS and channel not in REPLY_CHANNELS:
        raise ValueError("only citizen_app and hotline_12351 take replies")


def is_reply(request: web.Request) -> bool:
    """Whether ``request`` is a call of a reply endpoint."""
    return request.method == "POST" and request.path.endswith(REPLY_PATH_ENDS)


def channel_of(path: str) -> str | None:
    """The channel whose paths ``path`` lies under, if any."""
    for prefix, channel in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return channel
    return None


def storm_middleware(state: ServerState) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The middleware applying ``state.storms`` to every request."""

    @web.middleware
    async def storms(request: web.Request, handler: Handler) -> web.StreamResponse:
        channel = channel_of(request.path)
        if channel is not None and is_reply(request):
            reply_storm = state.reply_storms.get(channel)
            if reply_storm is not None and state.faults.chance(reply_storm.rate):
                if reply_storm.kind == "reply_lost":
                    await handler(request)  # taken upstream...
                return await _reply_storm(state, channel, reply_storm, request)
        storm = state.storms.get(channel) if channel is not None else None
        if channel is None or storm is None or not state.faults.chance(storm.rate):
            return await handler(request)
        if storm.kind == "torn":
            return await _torn(state, channel, request, handler)
        state.faults.count(channel, f"storm_{storm.kind}")
        if storm.kind == "http_5xx":
            return json_response({"error": "service unavailable"}, 503)
        if storm.kind == "http_429":
            return json_response({"error": "rate_limited"}, 429, **{"Retry-After": "1"})
        if storm.kind == "drop":
            return drop_connection(request)
        await state.hang()
        return drop_connection(request)

    return storms


async def _torn(
    state: ServerState, channel: str, request: web.Request, handler: Handler
) -> web.StreamResponse:
    response = await handler(request)
    if not isinstance(response, web.Response) or response.status != 200:
        return response
    body = response.body
    if not request.path.endswith(".csv") or not isinstance(body, bytes):
        return response
    state.faults.count(channel, "storm_torn")
    response.body = body[: max(1, len(body) * 2 // 3)]
    return response


async def _reply_storm(
    state: ServerState, channel: str, storm: Storm, request: web.Request
) -> web.StreamResponse:
    state.faults.count(channel, f"storm_{storm.kind}")
    hotline_channel = channel == hotline.CHANNEL
    if storm.kind == "reply_429":
        if hotline_channel:
            return json_response({"code": 42901, "msg": "请求过于频繁", "data": None})
        return json_response({"error": "rate_limited"}, 429, **{"Retry-After": "1"})
    if storm.kind == "reply_5xx":
        if hotline_channel:
            return json_response({"code": 50000, "msg": "系统繁忙", "data": None})
        return json_response({"error": "service unavailable"}, 503)
    if storm.kind in ("reply_hang", "reply_lost"):
        await state.hang()  # ... and its answer never comes
    return drop_connection(request)
