"""The HTTP client every upstream exchange goes through, listing (sources) or replying (sinks).

:class:`UpstreamClient` owns the aiohttp session, spends the upstream's
:class:`~connectors.budget.RateBudget` before each request, turns network
failures into :class:`~connectors.errors.TransientUpstreamError`, and repeats
an attempt with the shared retry policy (:meth:`UpstreamClient.retrying`),
holding the budget when the upstream says to slow down. What an answer means
is the channel's resolution table's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from connectors.budget import RateBudget
from connectors.errors import RateLimitedError, TransientUpstreamError
from connectors.retry import RetryPolicy, call_with_retry

T = TypeVar("T")
DEFAULT_HOLD_S = 1.0  # a rate limit that did not say for how long


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


class UpstreamClient:
    """One upstream's HTTP session, rate budget and retried attempts.

    ``channel`` names the upstream in error messages (never a URL's query,
    which may carry a signature).
    """

    def __init__(
        self,
        channel: str,
        *,
        timeout_s: float,
        budget: RateBudget | None = None,
        connection_limit: int = 8,
    ) -> None:
        self.channel = channel
        self.budget = budget
        self._timeout_s = timeout_s
        self._limit = connection_limit
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the HTTP session."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                connector=aiohttp.TCPConnector(limit=self._limit),
            )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open HTTP session (after :meth:`open`)."""
        if self._session is None:
            raise RuntimeError("HTTP session used before open()")
        return self._session

    def describe(self, request: HttpRequest) -> str:
        """A log-safe description of ``request`` (no query values, which may carry secrets)."""
        return f"{self.channel} {request.method} {request.url.split('?', 1)[0]}"

    async def send(self, request: HttpRequest, timeout_s: float | None = None) -> HttpResponse:
        """One HTTP exchange within the budget; network failures become transient errors."""
        if self.budget is not None:
            await self.budget.acquire()
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

    async def retrying(
        self, policy: RetryPolicy, attempt: Callable[[], Awaitable[T]], *, what: str
    ) -> T:
        """``attempt()`` repeated per ``policy``; a rate limit also holds the shared budget."""

        async def guarded() -> T:
            try:
                return await attempt()
            except RateLimitedError as exc:
                if self.budget is not None:
                    self.budget.hold(exc.retry_after or exc.min_wait_s or DEFAULT_HOLD_S)
                raise

        return await call_with_retry(policy, guarded, what=what)
