"""Test helpers: read topics the way downstream readers do, wait on conditions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.kafka.reading import read_to_end
from devtools.polling import poll_until

__all__ = ["eventually", "read_to_end"]


async def eventually(
    condition: Callable[[], Awaitable[bool]], timeout_s: float = 30.0, every_s: float = 0.1
) -> None:
    """Wait until ``condition()`` holds; fail the test if it never does.

    For state that a broker or a daemon reaches asynchronously with no event to
    wait on; the condition, not the clock, decides when the test goes on. Raises
    :class:`~devtools.polling.ConditionTimeoutError`, naming the condition.
    """
    await poll_until(condition, timeout_s=timeout_s, every_s=every_s)
