"""The rate budget one upstream's source and sink share: a token bucket that a rate limit holds."""

from __future__ import annotations

import asyncio
import time

from connectors.budget import RateBudget, budget_for
from connectors.errors import RateLimitedError
from connectors.retry import RetryPolicy
from connectors.upstream import UpstreamClient


async def test_the_bucket_spends_its_burst_then_paces_at_the_rate() -> None:
    budget = RateBudget(rate_per_s=20, burst=2)
    start = time.monotonic()
    for _ in range(6):  # 2 at once, then 4 at 20/s
        await budget.acquire()
    assert 0.15 <= time.monotonic() - start < 1.0


async def test_a_hold_stops_every_acquirer_for_its_length() -> None:
    budget = RateBudget(rate_per_s=1000)
    budget.hold(0.3)
    start = time.monotonic()
    await asyncio.gather(budget.acquire(), budget.acquire())
    assert time.monotonic() - start >= 0.29


def test_one_budget_per_upstream_whoever_asks() -> None:
    source_side = budget_for("citizen_app", "http://sim/citizen/", 10)
    sink_side = budget_for("citizen_app", "http://sim/citizen", 10)
    assert source_side is sink_side
    assert budget_for("hotline_12351", "http://sim/citizen", 10) is not source_side
    assert budget_for("citizen_app", "http://sim/citizen", 5).rate_per_s == 5


async def test_a_rate_limit_seen_by_one_client_holds_the_shared_budget() -> None:
    budget = RateBudget(rate_per_s=1000)
    client = UpstreamClient("citizen_app", timeout_s=1, budget=budget)
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RateLimitedError("citizen_app: rate limited", retry_after=0.3)
        return "ok"

    policy = RetryPolicy(attempts=3, initial_s=0.0, jitter_s=0.0, retry_after_cap_s=0.0)
    assert await client.retrying(policy, attempt, what="reply") == "ok"
    start = time.monotonic()
    await budget.acquire()  # the other direction waits out the upstream's 0.3 s too
    assert time.monotonic() - start >= 0.2
