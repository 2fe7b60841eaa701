"""Retry policy: exponential backoff with jitter and a cap, the upstream's Retry-After first.

Only exceptions whose ``retriable`` flag is set are retried; configuration
errors and contract violations surface at once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from connectors.errors import TokenExpiredError, TransientUpstreamError
from core.errors import UnionhubError

T = TypeVar("T")
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is repeated."""

    attempts: int = 6
    initial_s: float = 0.2
    cap_s: float = 30.0
    jitter_s: float = 0.2
    retry_after_cap_s: float = 120.0

    def wait_s(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based) after ``error``."""
        backoff = min(self.cap_s, self.initial_s * 2.0 ** (attempt - 1))
        backoff += random.uniform(0, self.jitter_s)  # noqa: S311 - jitter, not security
        if isinstance(error, TokenExpiredError):
            return 0.0  # a new token is fetched on the next attempt; no reason to wait
        if isinstance(error, TransientUpstreamError):
            if error.retry_after is not None:
                # The upstream said how long; honour it (bounded against absurd values).
                return min(error.retry_after, self.retry_after_cap_s)
            if error.min_wait_s:
                backoff = max(backoff, min(self.cap_s, error.min_wait_s * 2.0 ** (attempt - 1)))
        return backoff


def is_retriable(error: BaseException) -> bool:
    """True for unionhub errors flagged retriable."""
    return isinstance(error, UnionhubError) and error.retriable


async def call_with_retry(policy: RetryPolicy, call: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Await ``call()`` until it succeeds, retrying retriable errors per ``policy``.

    The last error is re-raised when attempts run out.
    """

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.wait_s(state.attempt_number, error)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info("retrying", what=what, attempt=state.attempt_number, error=str(error))

    retrying = AsyncRetrying(
        retry=retry_if_exception(is_retriable),
        wait=wait,
        stop=stop_after_attempt(policy.attempts),
        before_sleep=before_sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity re-raises the last error")
