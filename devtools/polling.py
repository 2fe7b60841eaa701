"""Waiting on a condition that something else reaches with no event to await.

Tests, the chaos run and the benchmarks wait for a broker, a daemon or a group
to get somewhere; the condition, not the clock, decides when they go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.errors import UnionhubError


class ConditionTimeoutError(UnionhubError, TimeoutError):
    """A condition did not hold in time; the message says which."""


async def poll_until(
    condition: Callable[[], Awaitable[bool]],
    *,
    timeout_s: float,
    every_s: float = 0.1,
    what: str | None = None,
) -> float:
    """Poll ``condition`` every ``every_s`` until it holds; the loop time at which it did.

    Raises :class:`ConditionTimeoutError` naming ``what`` (or the condition's
    function name) once ``timeout_s`` has passed without it holding.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        if loop.time() > deadline:
            name = what or getattr(condition, "__name__", "condition")
            raise ConditionTimeoutError(f"{name}: not reached within {timeout_s:.0f}s")
        await asyncio.sleep(every_s)  # polling: there is no event to await
    return loop.time()
