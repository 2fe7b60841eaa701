"""The HTTP-polling template: request, paginate, parse, checkpoint.

As airbyte-cdk's ``HttpStream``, a channel fills in the steps and the base
runs them: :meth:`HttpPollingSource.start_requests` gives the first request of
each stream, :meth:`~HttpPollingSource.prepare` signs or authenticates every
attempt, :meth:`~HttpPollingSource.check` resolves the answer through the
channel's :class:`~connectors.resolution.ResolutionTable`,
:meth:`~HttpPollingSource.parse` turns a response into a :class:`Page` (records,
dead letters, follow-up requests and the state after it), and the base commits
each page in one transaction before adopting its state.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from connectors.base import PollingSource, SourceContext
from connectors.budget import RateBudget, budget_for
from connectors.config import ConnectorConfig
from connectors.errors import TransientUpstreamError
from connectors.intake import Batch
from connectors.resolution import ResolutionTable, parse_retry_after
from connectors.retry import RetryPolicy
from connectors.upstream import HttpRequest, HttpResponse, UpstreamClient
from schemas.deadletter import DeadLetter, DeadLetterError
from schemas.raw import utc_now

__all__ = ["HttpPollingSource", "HttpRequest", "HttpResponse", "Page", "gather_bounded"]


def _no_state_change() -> None:
    return None


@dataclass
class Page:
    """The result of parsing one response.

    ``adopt`` applies the state after this page to the source; the template
    calls it only once ``batch`` (holding that state's checkpoint) committed.
    """

    batch: Batch = field(default_factory=Batch)
    follow: list[HttpRequest] = field(default_factory=list)
    adopt: Callable[[], None] = _no_state_change


class HttpPollingSource(PollingSource):
    """Template of an HTTP-polling connector; subclasses fill in the steps."""

    table: ResolutionTable

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.client = UpstreamClient(
            str(config.channel),
            timeout_s=context.http_timeout_s,
            budget=budget_of(config),
            connection_limit=self.connection_limit(),
        )

    async def open(self) -> None:
        """Create the HTTP session."""
        await self.client.open()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.client.close()

    def connection_limit(self) -> int:
        """Most connections open at once to the upstream."""
        return 8

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open HTTP session (after :meth:`open`)."""
        return self.client.session

    # -- the template ---------------------------------------------------------------

    async def poll_once(self) -> None:
        """Read every stream :meth:`start_requests` names, page by page, committing each."""
        for request in await self.start_requests():
            if self.stopping:
                return
            await self.read_stream(request)

    async def read_stream(self, first: HttpRequest, policy: RetryPolicy | None = None) -> None:
        """Fetch ``first`` and every follow-up request, committing each page before the next."""
        queue = deque([first])
        while queue and not self.stopping:
            request = queue.popleft()
            page = await self.fetch_page(request, policy or self.context.retry)
            if page.batch:
                await self.commit(page.batch)
            page.adopt()
            queue.extendleft(reversed(page.follow))

    async def fetch_page(self, request: HttpRequest, policy: RetryPolicy) -> Page:
        """Send, check and parse ``request`` with retries; :meth:`on_exhausted` at the end."""

        async def attempt() -> Page:
            response = await self.send(await self.prepare(request), request.timeout_s)
            self.check(request, response)
            return self.parse(request, response)

        try:
            return await self.client.retrying(policy, attempt, what=self.describe(request))
        except TransientUpstreamError as exc:
            page = self.on_exhausted(request, exc)
            if page is None:
                raise
            return page

    async def send(self, request: HttpRequest, timeout_s: float | None = None) -> HttpResponse:
        """One HTTP exchange through the shared client (budget, network errors as transient)."""
        return await self.client.send(request, timeout_s)

    # -- the steps a channel fills in -----------------------------------------------

    async def start_requests(self) -> list[HttpRequest]:
        """The first request of each stream to read in this poll."""
        raise NotImplementedError

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """``request`` as sent on this attempt (auth headers, signature); default unchanged."""
        return request

    def check(self, request: HttpRequest, response: HttpResponse) -> None:
        """Raise the error the resolution table names for a non-successful answer."""
        self.table.check(response.status, retry_after=self.retry_after(response))

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """Records, dead letters, follow-up requests and the next state of one response."""
        raise NotImplementedError

    def on_exhausted(self, request: HttpRequest, error: TransientUpstreamError) -> Page | None:
        """A page to commit instead when retries of ``request`` ran out; None re-raises."""
        return None

    def describe(self, request: HttpRequest) -> str:
        """A log-safe description of ``request`` (no query values, which may carry secrets)."""
        return self.client.describe(request)

    # -- helpers for channels --------------------------------------------------------

    @staticmethod
    def retry_after(response: HttpResponse) -> float | None:
        """The ``Retry-After`` header in seconds, if any."""
        return parse_retry_after(response.headers.get("retry-after"))

    def dead_letter(
        self,
        kind: str,
        message: str,
        raw: bytes | str,
        source: str,
        external_id: str | None = None,
    ) -> DeadLetter:
        """A dead letter of this connector (stage ``intake``)."""
        text, encoding = DeadLetter.encode_raw(raw)
        return DeadLetter(
            stage="intake",
            channel=self.config.channel,
            connector=self.name,
            external_id=external_id,
            error=DeadLetterError(kind=kind, message=message),
            raw=text,
            raw_encoding=encoding,
            source=source,
            at=utc_now(),
        )


def budget_of(config: ConnectorConfig) -> RateBudget | None:
    """The shared budget of ``config``'s upstream, for configs that set a request rate."""
    rate = getattr(config, "max_requests_per_s", None)
    base_url = getattr(config, "base_url", None)
    if rate is None or base_url is None:
        return None
    return budget_for(str(config.channel), base_url, rate)


async def gather_bounded(limit: int, *calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` with at most ``limit`` at once; results (or exceptions) in order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Any]) -> Any:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(run(c) for c in calls), return_exceptions=True)
