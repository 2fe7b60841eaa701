"""Seeded fault injection: each request draws a fault with probability ``rate``."""

from __future__ import annotations

import random
from collections import Counter


class FaultInjector:
    """Decides, per request, whether and which fault to inject, and counts what it injected.

    Draws come from one seeded generator, so a run's sequence of faults is
    reproducible for the same sequence of requests. ``rate`` 0 injects nothing.
    """

    def __init__(self, seed: int, rate: float) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self.rate = rate
        self._counts: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()

    def draw(self, channel: str, kinds: tuple[str, ...]) -> str | None:
        """A fault kind for one request of ``channel`` (counted), or ``None``."""
        self.requests[channel] += 1
        if self.rate <= 0 or not kinds:
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(kinds)
        self.count(channel, kind)
        return kind

    def chance(self, probability: float) -> bool:
        """A seeded coin flip for secondary decisions inside a fault."""
        return self._rng.random() < probability

    def count(self, channel: str, kind: str) -> None:
        """Record one injected fault of ``kind`` on ``channel``."""
        self._counts[f"{channel}.{kind}"] += 1

    def counts(self) -> dict[str, int]:
        """Faults injected so far, by ``<channel>.<kind>``."""
        return dict(self._counts)
