"""The daemon's share of the closed loop: the case store and its sink, the case API, the figures,
the live board.

:class:`CaseLoopServices` owns the case store (SQLite under the state dir by
default, PostgreSQL when ``UNIONHUB_CASE_STORE`` says so), the sink that keeps it
in step with Kafka, the action sender and the access tokens; it mounts the case
routes on the daemon's HTTP app and gives ``/metrics`` this week's figures. The
router applies the actions; this only takes them in and shows the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from caseloop.clocks import WorkingCalendar
from caseloop.figures import Figures
from caseloop.loopclock import LoopClock
from connectors.secrets import SecretResolver
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from review.sink import CaseStoreSink
from review.store import open_case_store
from review.store.base import CaseStore
from review.store.meta import LOOP_CLOCK_META, loop_clock_meta
from unionhub.board.feed import BoardFeed
from unionhub.board.routes import Board, add_board_routes
from unionhub.board.sessions import Sessions
from unionhub.cases.access import ActorTokens
from unionhub.cases.actions import ActionSender
from unionhub.cases.rest import CaseApi, add_case_routes, case_auth_middleware
from unionhub.cases.stats import figures_for
from unionhub.configstore import ConfigStore
from unionhub.daemon.figures_metrics import FiguresCollector


class CaseLoopServices:
    """The case store, its sink, the case API and the figures of one daemon."""

    def __init__(
        self,
        settings: Settings,
        config_store: ConfigStore,
        resolver: SecretResolver,
        calendar: Callable[[], WorkingCalendar],
        *,
        store: CaseStore | None = None,
    ) -> None:
        catalog = TopicCatalog(settings.namespace)
        self.store = store or open_case_store(settings)
        self.clock = LoopClock(settings.loop_speed, settings.loop_anchor)
        # The board's snapshots read through their own connection, off the event loop;
        # a store handed in (an in-memory one in tests) is read in place.
        self._reader = store or open_case_store(settings, read_only=True)
        self.feed = BoardFeed(self._reader, self.clock, calendar, in_thread=store is None)
        self.sink = CaseStoreSink(
            settings.kafka_bootstrap,
            catalog,
            self.store,
            client_id=catalog.client_id("review.sink"),
            meta={LOOP_CLOCK_META: loop_clock_meta(self.clock)},
        )
        self.sink.subscribe(self.feed.on_changes)
        self._calendar = calendar
        self.tokens = ActorTokens(config_store.access, resolver)
        self.sender = ActionSender(settings.kafka_bootstrap, catalog)

    def middleware(self) -> Middleware:
        """The case routes' token check."""
        return case_auth_middleware(self.tokens)

    def mount(self, app: web.Application) -> None:
        """Add the case routes to ``app``."""
        add_case_routes(
            app, CaseApi(self.store, self.sink, self.sender, self.clock, self._calendar)
        )
        add_board_routes(app, Board(self.store, self.feed, self.tokens, Sessions()))

    def figures_collector(self) -> FiguresCollector:
        """This week's figures for ``/metrics``."""
        return FiguresCollector(self.week_figures)

    def week_figures(self) -> dict[str, Figures]:
        """Every scope's figures of the current week, as the store knows them now."""
        now = self.clock.now()
        _, _, scopes = figures_for(self.store.states(), "week", now, now, self._calendar())
        return scopes

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the store in step with Kafka, and the board's browsers told, until ``stop``."""
        await asyncio.gather(self.sink.run(stop), self.feed.run(stop))

    async def close(self) -> None:
        """Stop the sender and close the store."""
        await self.sender.close()
        if self._reader is not self.store:
            self._reader.close()
        self.store.close()
