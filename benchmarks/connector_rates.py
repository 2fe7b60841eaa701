"""Records per second of each connector against the simulators, faults off.

Starts the simulators (a seeded scenario, everything released, no faults),
runs each channel's real source against the given broker in a fresh
namespace, and times rounds (``poll_once``) until a round brings nothing
new: records written (committed) per second of the rounds that wrote them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.kafka import delete_namespace, fresh_catalog
from connectors.base import SourceContext
from connectors.config import parse_config
from connectors.registry import build_source
from connectors.secrets import SecretResolver
from schemas.channels import Channel
from simulators import SimulatorOptions, start_simulators

MAX_ROUNDS = 50


@dataclass(frozen=True)
class ConnectorRate:
    """What one connector wrote and how long its rounds took."""

    channel: str
    records: int
    seconds: float
    rounds: int

    @property
    def per_second(self) -> float:
        """Records committed per second of polling."""
        return self.records / self.seconds if self.seconds else 0.0


async def connector_rates(bootstrap: str, incidents: int = 2000) -> list[ConnectorRate]:
    """Each channel's connector over a scenario of ``incidents``, faults off."""
    catalog = await fresh_catalog(bootstrap, "k")
    rates: list[ConnectorRate] = []
    options = SimulatorOptions(seed=5, incidents=incidents, fault_rate=0.0, live_fraction=0.0)
    try:
        async with start_simulators(options) as sims:
            sims.release_all()
            for channel in Channel:
                config = parse_config(dict(sims.connector_configs[channel.value]), SecretResolver())
                context = SourceContext(bootstrap=bootstrap, namespace=catalog.namespace)
                source = build_source(config, context)
                await source.writer.start()
                await source.restore()
                await source.open()
                try:
                    seconds, rounds, before = 0.0, 0, -1
                    while source.writer.counters.records != before and rounds < MAX_ROUNDS:
                        before = source.writer.counters.records
                        started = time.perf_counter()
                        await source.poll_once()
                        if source.writer.counters.records != before:
                            # The last round, which only confirms nothing is new, is not counted.
                            seconds += time.perf_counter() - started
                            rounds += 1
                    rates.append(
                        ConnectorRate(
                            channel.value, source.writer.counters.records, seconds, rounds
                        )
                    )
                finally:
                    await source.close()
                    await source.writer.close()
    finally:
        await delete_namespace(bootstrap, catalog)
    return rates
