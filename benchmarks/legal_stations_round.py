"""How long one legal_stations round takes with a tenth of 262 stations down or hanging.

Starts the simulators (faults off), forces every tenth station down (a third
each refusing connections, hanging past the timeout, answering 503), runs
the real ``LegalStationsSource`` against the Kafka broker of
``UNIONHUB_KAFKA_BOOTSTRAP`` (default 127.0.0.1:9092; ``make run`` starts
one) in a fresh namespace, and prints the duration of a first round (all
backlog cases written) and a second one (nothing new), next to the
``request_timeout_s``. The promise: a round finishes within two request timeouts.

    .venv/bin/python benchmarks/legal_stations_round.py [--timeout 5] [--stations 262]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from connectors.base import SourceContext
from connectors.channels.legal_stations import LegalStationsSource
from connectors.config import LegalStationsConfig, parse_config
from connectors.secrets import SecretResolver
from core.kafka.clients import admin_client, configure_clients
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from schemas.channels import Channel
from simulators import SimulatorOptions, start_simulators

MODES = ("refuse", "hang", "http_503")


async def measure(stations: int, timeout_s: float, settings: Settings) -> None:
    """Run two rounds and print their durations."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    catalog = TopicCatalog(namespace)
    async with admin_client(settings.kafka_bootstrap) as admin:
        await ensure_topics(admin, catalog.specs())
    options = SimulatorOptions(seed=3, incidents=200, stations=stations, fault_rate=0.0)
    async with start_simulators(options) as sims:
        sims.release_all()
        raw = dict(sims.connector_configs[Channel.LEGAL_STATIONS.value])
        raw["request_timeout_s"] = timeout_s
        config = parse_config(raw, SecretResolver())
        if not isinstance(config, LegalStationsConfig):
            raise TypeError("the simulator config is not a legal_stations config")
        context = SourceContext(bootstrap=settings.kafka_bootstrap, namespace=namespace)
        source = LegalStationsSource(config, context)
        await source.writer.start()
        await source.restore()
        await source.open()
        try:
            await source.refresh_registry()
            ids = sorted(source.stations)
            down = ids[::10]
            for n, station_id in enumerate(down):
                sims.set_station_down(station_id, MODES[n % len(MODES)])
            print(
                f"stations: {len(ids)}, down: {len(down)} "
                f"({', '.join(f'{m} {len(down[i :: len(MODES)])}' for i, m in enumerate(MODES))}), "
                f"request_timeout_s: {timeout_s}, max_concurrency: {config.max_concurrency}"
            )
            for label in ("first round (backlog)", "second round (nothing new)"):
                started = time.perf_counter()
                await source.poll_once()
                elapsed = time.perf_counter() - started
                print(
                    f"{label}: {elapsed:.2f} s = {elapsed / timeout_s:.2f} request timeouts; "
                    f"records written so far: {source.writer.counters.records}"
                )
        finally:
            await source.close()
            await source.writer.close()
            async with admin_client(settings.kafka_bootstrap) as admin:
                ours = [t for t in await admin.list_topics() if t.startswith(namespace)]
                await admin.delete_topics(ours)


def main() -> None:
    """Parse arguments and run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="request_timeout_s")
    parser.add_argument("--stations", type=int, default=262)
    args = parser.parse_args()
    settings = Settings()
    configure_clients(settings, os.environ)
    asyncio.run(measure(args.stations, args.timeout, settings))


if __name__ == "__main__":
    main()
