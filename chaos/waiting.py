"""Waiting on conditions (never on the clock alone): polls until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class ChaosTimeoutError(TimeoutError):
    """A condition the chaos run waited on did not hold in time (says which)."""


async def wait_until(
    condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float, every_s: float = 0.5
) -> None:
    """Poll ``condition`` every ``every_s`` until it holds; raise after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        if loop.time() > deadline:
            raise ChaosTimeoutError(f"{what}: not reached within {timeout_s:.0f}s")
        await asyncio.sleep(every_s)  # polling a broker or a process: no event to await
