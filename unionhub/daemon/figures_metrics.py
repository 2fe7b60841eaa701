"""The federation's figures on ``/metrics``: this week's, per district and city-wide.

Computed from the case store at scrape time (at most every :data:`REFRESH_S`:
the figures of a week change slowly and a scrape must stay cheap), never from
logs. Each ratio is two gauges, numerator and denominator, so a dashboard can
sum them over districts exactly; the ratio itself is a third.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from caseloop.figures import Figures
from unionhub.cases.stats import COUNTS, RATIOS

REFRESH_S = 30.0

FiguresSource = Callable[[], dict[str, Figures]]


class FiguresCollector(Collector):
    """Yields ``unionhub_cases_*`` gauges from this week's figures."""

    def __init__(self, figures: FiguresSource) -> None:
        self._figures = figures
        self._cached: dict[str, Figures] = {}
        self._at = float("-inf")

    def collect(self) -> Iterator[Metric]:
        """The figure families of one scrape."""
        if time.monotonic() - self._at > REFRESH_S:
            self._cached = self._figures()
            self._at = time.monotonic()
        labels = ["scope"]
        families: dict[str, GaugeMetricFamily] = {}
        for name in COUNTS:
            families[name] = GaugeMetricFamily(
                f"unionhub_cases_{name}", f"This week's {name} (case loop figures)", labels=labels
            )
        for name in RATIOS:
            for part in ("numerator", "denominator", "ratio"):
                families[f"{name}_{part}"] = GaugeMetricFamily(
                    f"unionhub_cases_{name}_{part}",
                    f"This week's {name}: its {part}",
                    labels=labels,
                )
        for scope, figures in sorted(self._cached.items()):
            for name in COUNTS:
                families[name].add_metric([scope], float(getattr(figures, name)))
            for name in RATIOS:
                ratio = getattr(figures, name)
                families[f"{name}_numerator"].add_metric([scope], float(ratio.numerator))
                families[f"{name}_denominator"].add_metric([scope], float(ratio.denominator))
                if ratio.value is not None:
                    families[f"{name}_ratio"].add_metric([scope], ratio.value)
        yield from families.values()
