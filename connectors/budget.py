"""One rate budget per upstream, for both directions: listing (sources) and replies (sinks).

A source and the reply sink of one upstream run in the same daemon; each
request either of them sends first takes a token from the upstream's
:class:`RateBudget` (a token bucket), and an upstream's "slow down" (429 with
``Retry-After``, hotline 42901) holds the whole budget, so the other direction
backs off too instead of spending the upstream's patience. Budgets are kept
per process in :func:`budget_for`, keyed by channel and base URL.
"""

from __future__ import annotations

import asyncio
import time


class RateBudget:
    """``rate_per_s`` requests a second, bursts up to ``burst`` (a GCRA token bucket).

    :meth:`acquire` waits for a slot; :meth:`hold` stops every acquirer for a while.
    A slot is reserved without awaiting (so without a lock bound to one event
    loop): the budget serves every loop of the process.
    """

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate_per_s = rate_per_s
        self.burst = max(1.0, burst if burst is not None else rate_per_s)
        self._tat = 0.0  # theoretical arrival time of the next request (monotonic clock)
        self._held_until = 0.0
        self.waited_s = 0.0  # total time requests waited for the budget (for status)

    async def acquire(self) -> None:
        """Wait until a request may be sent (its slot, and past any hold)."""
        interval = 1.0 / self.rate_per_s
        now = time.monotonic()
        start = max(now, self._held_until)
        send_at = max(start, self._tat - (self.burst - 1.0) * interval)
        self._tat = max(self._tat, send_at) + interval
        while send_at > now:
            self.waited_s += send_at - now
            await asyncio.sleep(send_at - now)
            now = time.monotonic()
            send_at = max(send_at, self._held_until)  # a hold that came while waiting

    def hold(self, seconds: float) -> None:
        """The upstream asked for a pause: nobody sends for ``seconds`` (never shortened)."""
        self._held_until = max(self._held_until, time.monotonic() + max(seconds, 0.0))


_BUDGETS: dict[tuple[str, str], RateBudget] = {}


def budget_for(channel: str, base_url: str, rate_per_s: float) -> RateBudget:
    """The process's budget of the upstream at ``base_url`` (created on first use).

    A later caller with another ``rate_per_s`` (a reconfigured connector) changes
    the rate of the same budget: there is never a second one for an upstream.
    """
    key = (channel, base_url.rstrip("/"))
    budget = _BUDGETS.get(key)
    if budget is None:
        budget = _BUDGETS[key] = RateBudget(rate_per_s)
    elif budget.rate_per_s != rate_per_s:
        budget.rate_per_s = rate_per_s
        budget.burst = max(1.0, rate_per_s)
    return budget
