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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from yarl import URL

from connectors.base import PollingSource, SourceContext
from connectors.config import ConnectorConfig
from connectors.errors import TransientUpstreamError
from connectors.intake import Batch
from connectors.resolution import ResolutionTable, parse_retry_after
from connectors.retry import RetryPolicy, call_with_retry
from schemas.deadletter import DeadLetter, DeadLetterError
from schemas.raw import utc_now


@dataclass(frozen=True)
class HttpRequest:
    """One upstream call; ``url`` is fully percent-encoded and sent as is."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    data: bytes | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None  # overrides the session's timeout for this call

    def with_headers(self, **headers: str) -> HttpRequest:
        """A copy with ``headers`` added."""
        return replace(self, headers={**self.headers, **headers})


@dataclass(frozen=True)
class HttpResponse:
    """What the upstream answered: status, headers and the body bytes."""

    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    url: str


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
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the HTTP session."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.context.http_timeout_s),
            connector=aiohttp.TCPConnector(limit=self.connection_limit()),
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def connection_limit(self) -> int:
        """Most connections open at once to the upstream."""
        return 8

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open HTTP session (after :meth:`open`)."""
        if self._session is None:
            raise RuntimeError("HTTP session used before open()")
        return self._session

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
            return await call_with_retry(policy, attempt, what=self.describe(request))
        except TransientUpstreamError as exc:
            page = self.on_exhausted(request, exc)
            if page is None:
                raise
            return page

    async def send(self, request: HttpRequest, timeout_s: float | None = None) -> HttpResponse:
        """One HTTP exchange; network failures become :class:`TransientUpstreamError`."""
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s is not None else None
        try:
            async with self.session.request(
                request.method,
                URL(request.url, encoded=True),
                headers=dict(request.headers),
                data=request.data,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                body = await response.read()
                return HttpResponse(
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=body,
                    url=request.url,
                )
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise TransientUpstreamError(
                f"{self.describe(request)}: {type(exc).__name__}"
            ) from None

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
        return f"{self.config.channel} {request.method} {request.url.split('?', 1)[0]}"

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


async def gather_bounded(limit: int, *calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` with at most ``limit`` at once; results (or exceptions) in order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Any]) -> Any:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(run(c) for c in calls), return_exceptions=True)
