"""Upstream storms: one channel misbehaving far beyond the fault rate, until told to stop.

A storm is a kind and a rate: while it lasts, each request to the channel's
paths is hit with probability ``rate`` (seeded draws, counted as
``<channel>.storm_<kind>`` in ``fault_counts()``). It is applied by an aiohttp
middleware in front of the channel servers, so it needs nothing from them:

* ``http_5xx`` answers 503, ``http_429`` answers 429 with ``Retry-After: 1``,
  ``drop`` closes the connection, ``hang`` keeps the request open past any
  client timeout (:data:`simulators.servers.state.HANG_S`);
* ``torn`` (``petition_window`` only) cuts a successful CSV download to two
  thirds of its bytes, so its sha256 does not match the listing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from schemas.channels import Channel
from simulators.servers import citizen_app, hotline, legal_stations, petition_window, provincial
from simulators.servers.state import ServerState, drop_connection, json_response

STORM_KINDS = ("http_5xx", "http_429", "drop", "hang", "torn")
TORN_CHANNELS = frozenset({Channel.PETITION_WINDOW.value})
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
