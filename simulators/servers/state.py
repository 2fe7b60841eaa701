"""What every channel server shares: the scenario, the release clock, faults, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from simulators.scenario.model import Scenario
from simulators.servers.faults import FaultInjector
from simulators.servers.ledger import ReplyLedger

if TYPE_CHECKING:
    from simulators.servers.auth import TokenStore
    from simulators.servers.storms import Storm

HANG_S = 60.0  # how long a "hanging" upstream keeps a request open (past any client timeout)


@dataclass
class ServerState:
    """Shared by the channel apps of one simulator run."""

    scenario: Scenario
    faults: FaultInjector
    credentials: dict[str, str]
    base_url: str = ""
    released_all: bool = False
    station_outage_s: float = 120.0
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    station_overrides: dict[str, str | None] = field(default_factory=dict)
    torn_batches: set[str] = field(default_factory=set)
    storms: dict[str, Storm] = field(default_factory=dict)  # channel -> its current storm
    reply_storms: dict[str, Storm] = field(default_factory=dict)  # on reply endpoints only
    replies: ReplyLedger = field(default_factory=ReplyLedger)
    token_stores: dict[str, TokenStore] = field(default_factory=dict)  # channel -> OAuth tokens

    def now(self) -> datetime:
        """The wall clock (UTC)."""
        return datetime.now(UTC)

    def visible(self, visible_at: datetime) -> bool:
        """Whether something released at ``visible_at`` is served now."""
        return self.released_all or visible_at <= self.now()

    async def hang(self) -> None:
        """Keep a request open past any sane client timeout (ends early on shutdown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), HANG_S)


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the TCP connection without an answer, as a flaky upstream does."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp fails to write this to the aborted transport and lets it go quietly.
    return web.Response(status=500)


def json_response(body: object, status: int = 200, **headers: str) -> web.Response:
    """A UTF-8 JSON response (non-ASCII kept as is)."""
    import orjson

    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers or None,
    )
