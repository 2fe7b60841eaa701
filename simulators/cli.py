"""``unionhub simulate``: serve the five upstream channels from a seeded scenario."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from core.settings import Settings
from schemas.channels import Channel
from simulators import SimulatorOptions, Simulators, start_simulators
from simulators.export import write_configs, write_expectations
from simulators.federations import cli as federations_cli

EXPECTATIONS_EVERY_S = 2.0
REPLY_CHANNELS = (Channel.CITIZEN_APP.value, Channel.HOTLINE_12351.value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` command, and ``simulate federations`` (the district federations)."""
    parser = subparsers.add_parser(
        "simulate",
        help="run the channel simulators (all five channels on one port) until interrupted",
    )
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (default 1)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8900, help="port (0 picks a free one)")
    parser.add_argument(
        "--out", type=Path, default=Path("var/simulators"), help="where <channel>.yaml go"
    )
    parser.add_argument("--incidents", type=int, default=100, help="scenario size")
    parser.add_argument("--stations", type=int, default=262, help="legal-service stations")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="live hour released over 3600/speed seconds"
    )
    parser.add_argument(
        "--fault-rate", type=float, default=0.05, help="fault probability per request; 0 = none"
    )
    parser.add_argument(
        "--live-fraction", type=float, default=0.3, help="share of incidents released live"
    )
    parser.set_defaults(handler=_simulate)
    # Optional: `simulate` alone serves the channels; `simulate federations ...` runs the
    # simulated federations (its options come after the word `federations`).
    more = parser.add_subparsers(dest="simulated", metavar="{federations}")
    federations_cli.register(more)


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    try:
        options = SimulatorOptions(
            seed=args.seed,
            incidents=args.incidents,
            stations=args.stations,
            live_fraction=args.live_fraction,
            speed=args.speed,
            fault_rate=args.fault_rate,
            host=args.host,
            port=args.port,
        )
    except ValueError as exc:
        print(f"unionhub simulate: {exc}")
        return 2
    asyncio.run(_serve(options, args.out))
    return 0


async def _serve(options: SimulatorOptions, out: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with start_simulators(options) as sims:
        paths = write_configs(sims, out)
        expected = write_expectations(sims, out)
        scenario = sims.scenario
        print(f"simulators on {sims.base_url} (seed {options.seed})")
        for channel, config in sims.connector_configs.items():
            url = config.get("base_url") or config.get("registry_url")
            print(f"  {channel:<20} {url}")
        print("credentials:")
        for name, value in sims.credentials.items():
            print(f"  {name:<22} {value}")
        print(f"connector configs: {', '.join(str(p) for p in paths)}")
        print(f"expectations: {expected}")
        print(
            f"{len(scenario.expected_versions())} record versions; live part until "
            f"{scenario.live_end.isoformat()}; faults {options.fault_rate:.0%} of requests"
        )
        print("ready; Ctrl-C stops", flush=True)
        await _keep_expectations(sims, out, stop)
    print("stopped", flush=True)


async def _keep_expectations(sims: Simulators, out: Path, stop: asyncio.Event) -> None:
    """Until ``stop``: rewrite ``expected.json`` whenever a reply changed the scenario.

    A reply gives its record a new version (an expected ``case_updated``), so
    the expectations a checker reads must follow the replies taken.
    """
    taken = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=EXPECTATIONS_EVERY_S)
        now = sum(len(sims.replies(channel)) for channel in REPLY_CHANNELS)
        if now != taken:
            taken = now
            write_expectations(sims, out)
