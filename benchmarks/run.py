"""``make bench``: every figure of the benchmark in one run, printed and written to BENCHMARKS.md.

    .venv/bin/python -m benchmarks.run [--records 200000] [--runs 3] [--rate 2000]
        [--seconds 60] [--cases 1000000] [--bootstrap HOST:PORT] [--out BENCHMARKS.md]
    .venv/bin/python -m benchmarks.run --render   # the last run's table again

Without ``--bootstrap`` the benchmark starts its own broker (127.0.0.1:39092,
state under ``.cache/bench-state``) and stops it at the end, so the ratios are
measured on one broker, one machine, one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import platform
import shlex
import signal
import statistics
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.ceiling import ceiling
from benchmarks.compare import Comparison, compare
from benchmarks.connector_rates import ConnectorRate, connector_rates
from benchmarks.data import scenario_records
from benchmarks.kafka import BENCH_BOOTSTRAP, REPO_ROOT, bench_broker, bench_settings
from benchmarks.latency import LatencyResult, latency
from benchmarks.loop_memory import LoopMemory, loop_memory
from benchmarks.memory import MemoryResult, memory_and_restore
from benchmarks.pipeline import LAYOUTS, PipelineRun, run_pipeline
from benchmarks.takeover import TakeoverResult, takeover
from core.kafka.clients import configure_clients

LOW_RATE = 200  # reports/s: a busy day
RESULTS_FILE = REPO_ROOT / ".cache" / "bench-results.pickle"
PEER_LATENCY_COMMIT_S = 0.1  # Kafka Streams' commit interval under exactly-once

# The targets of issue 18, each printed beside its figure.
RATIO_QUIX = 2.0
SHARE_OF_CEILING = 0.40
CPU_PER_K_S = 0.15
P99_MS, MAX_MS, P99_LOW_MS = 250.0, 500.0, 150.0
COLD_RESTORE_S = 30.0
TAKEOVER_S = 5.0
LOOP_RATIO = 0.9


@dataclass
class Results:
    """Every figure of one benchmark run."""

    command: str
    records: int
    router_processes: int = 1
    router_layout: str = "split"
    ceilings: dict[str, float] = field(default_factory=dict)
    runs: dict[str, list[PipelineRun]] = field(default_factory=dict)
    comparison: Comparison | None = None
    latency: LatencyResult | None = None
    latency_low: LatencyResult | None = None  # at LOW_RATE: a busy day
    latency_peer: LatencyResult | None = None  # the Quix peer at Kafka Streams' EOS commit
    memory: MemoryResult | None = None
    connectors: list[str] = field(default_factory=list)
    connector_rates: list[ConnectorRate] = field(default_factory=list)
    loop_memory: LoopMemory | None = None
    takeover: TakeoverResult | None = None

    def median(self, system: str) -> float:
        """Median records/s of ``system``'s runs."""
        return statistics.median(run.per_second for run in self.runs[system])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=200_000, help="raw records per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per system (median)")
    parser.add_argument(
        "--peer-runs", type=int, default=None, help="runs of the Quix peer (default: --runs)"
    )
    parser.add_argument(
        "--router-processes",
        type=int,
        default=2,
        help="unionhub router processes (the Quix peer runs two: one per stage)",
    )
    parser.add_argument(
        "--router-layout",
        choices=LAYOUTS,
        default="split",
        help="split: dispatch stage alone on one process, normalize on the others (the "
        "peer's layout); all: both stages in every process",
    )
    parser.add_argument("--rate", type=int, default=2000, help="latency: offered records/s")
    parser.add_argument("--seconds", type=int, default=60, help="latency: how long")
    parser.add_argument("--cases", type=int, default=1_000_000, help="memory: cases in state")
    parser.add_argument(
        "--loop-cases", type=int, default=50_000, help="case loop: open cases for its memory cost"
    )
    parser.add_argument("--stations", type=int, default=262, help="legal_stations round")
    parser.add_argument(
        "--incidents", type=int, default=2000, help="connectors: scenario size (faults off)"
    )
    parser.add_argument("--bootstrap", default=None, help="use this broker instead of our own")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--render",
        action="store_true",
        help=f"only write the table again from the last run's figures ({RESULTS_FILE.name})",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=[
            "ceiling",
            "router",
            "quix",
            "loop",
            "latency",
            "memory",
            "takeover",
            "connectors",
        ],
    )
    return parser.parse_args(argv)


async def run_all(args: argparse.Namespace, bootstrap: str) -> Results:
    """Run every selected part against ``bootstrap``."""
    command = "python -m benchmarks.run " + shlex.join(sys.argv[1:])
    results = Results(
        command=command.strip(),
        records=args.records,
        router_processes=args.router_processes,
        router_layout=args.router_layout,
    )
    say(f"generating {args.records} raw records (seeded scenario, five channels)")
    records = await asyncio.to_thread(scenario_records, args.records)
    if "ceiling" not in args.skip:
        for client in ("aiokafka", "confluent-kafka", "aiokafka-per-partition", "aiokafka-two-hop"):
            results.ceilings[client] = await ceiling(client, bootstrap, records)
            say(f"ceiling {client}: {results.ceilings[client]:,.0f} records/s")
    outputs = {}
    for system in ("unionhub", "quix"):
        skip = "router" if system == "unionhub" else "quix"
        if skip in args.skip:
            continue
        results.runs[system] = []
        runs = args.runs if system == "unionhub" or args.peer_runs is None else args.peer_runs
        for n in range(runs):
            run = await run_pipeline(
                system,
                bootstrap,
                records,
                keep_output=n == 0,
                processes=args.router_processes,
                layout=args.router_layout,
            )
            results.runs[system].append(run)
            if run.output is not None:
                outputs[system] = run.output
            say(
                f"{system} run {n + 1}: {run.per_second:,.0f} records/s ({run.seconds:.1f} s, "
                f"CPU {run.cpu_seconds:.1f} s)"
            )
    if "loop" not in args.skip and "router" not in args.skip:
        results.runs["unionhub-loop-off"] = []
        for n in range(args.runs):
            run = await run_pipeline(
                "unionhub",
                bootstrap,
                records,
                keep_output=False,
                processes=args.router_processes,
                layout=args.router_layout,
                case_loop=False,
            )
            results.runs["unionhub-loop-off"].append(run)
            say(f"unionhub, loop off, run {n + 1}: {run.per_second:,.0f} records/s")
        results.loop_memory = await asyncio.to_thread(loop_memory, args.loop_cases)
        say(f"loop memory: {results.loop_memory}")
    if len(outputs) == 2:
        results.comparison = compare(outputs["unionhub"], outputs["quix"])
        say(f"outputs: {results.comparison}")
    if "latency" not in args.skip:
        results.latency = await latency(
            bootstrap,
            records,
            args.rate,
            args.seconds,
            processes=args.router_processes,
            layout=args.router_layout,
        )
        say(f"latency: {results.latency}")
        results.latency_low = await latency(
            bootstrap,
            records,
            LOW_RATE,
            args.seconds,
            processes=args.router_processes,
            layout=args.router_layout,
        )
        say(f"latency at {LOW_RATE}/s: {results.latency_low}")
        if "quix" not in args.skip:
            results.latency_peer = await latency(
                bootstrap, records, args.rate, args.seconds, peer_commit_s=PEER_LATENCY_COMMIT_S
            )
            say(f"peer latency (commit every {PEER_LATENCY_COMMIT_S} s): {results.latency_peer}")
    if "memory" not in args.skip:
        results.memory = await memory_and_restore(bootstrap, records, args.cases)
        say(f"memory: {results.memory}")
    if "takeover" not in args.skip:
        results.takeover = await takeover(bootstrap, records, LOW_RATE)
        say(f"takeover: {results.takeover}")
    if "connectors" not in args.skip:
        results.connectors = await asyncio.to_thread(legal_stations_round, bootstrap, args.stations)
        say("legal_stations round: " + " | ".join(results.connectors))
        results.connector_rates = await connector_rates(bootstrap, args.incidents)
        say(f"connectors: {results.connector_rates}")
    return results


def legal_stations_round(bootstrap: str, stations: int) -> list[str]:
    """Run the connectors' own round benchmark (``benchmarks/legal_stations_round.py``)."""
    env = dict(os.environ, UNIONHUB_KAFKA_BOOTSTRAP=bootstrap, UNIONHUB_LOG_LEVEL="warning")
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "legal_stations_round.py"),
            "--stations",
            str(stations),
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # Its log lines go to stdout too: keep the figures only.
    lines = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(("stations:", "first", "second"))
    ]
    if done.returncode != 0:
        lines.append(f"failed with exit code {done.returncode}: {done.stderr.strip()[-300:]}")
    return lines


def say(text: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def table(results: Results) -> str:
    """The figures as a Markdown table, with targets and whether each is met."""
    rows: list[tuple[str, str, str]] = []
    for client, rate in results.ceilings.items():
        hops = "2 hops" if "two-hop" in client else "1 hop"
        rows.append((f"ceiling, {client} ({hops}, EOS)", f"{rate:,.0f} records/s", ""))
    for system, runs in results.runs.items():
        each = ", ".join(f"{r.per_second:,.0f}" for r in runs)
        label = {
            "unionhub": f"unionhub router, {results.router_processes} process(es), "
            f"{results.router_layout}",
            "unionhub-loop-off": f"unionhub router, closed loop off, "
            f"{results.router_processes} process(es)",
        }.get(system, "Quix Streams peer, 2 processes")
        rows.append(
            (
                f"{label} (median of {len(runs)})",
                f"{results.median(system):,.0f} records/s",
                f"runs: {each}; CPU of the stage processes: {_cpu_per_k(runs)} s per 1,000; "
                f"largest process peak RSS {max(r.peak_rss_mb for r in runs):,.0f} MB",
            )
        )
    if "unionhub" in results.runs and "quix" in results.runs:
        ratio = results.median("unionhub") / results.median("quix")
        rows.append(
            (
                "unionhub / Quix Streams",
                f"{ratio:.2f} x",
                _target(ratio >= RATIO_QUIX, f">= {RATIO_QUIX}"),
            )
        )
        cpu = float(_cpu_per_k(results.runs["unionhub"]))
        rows.append(
            (
                "CPU per 1,000 records, all router processes",
                f"{cpu:.2f} s",
                _target(cpu <= CPU_PER_K_S, f"<= {CPU_PER_K_S} s"),
            )
        )
    if "unionhub" in results.runs and "aiokafka" in results.ceilings:
        share = results.median("unionhub") / results.ceilings["aiokafka"]
        rows.append(
            (
                "unionhub / ceiling (aiokafka)",
                f"{share:.0%}",
                _target(share >= SHARE_OF_CEILING, f">= {SHARE_OF_CEILING:.0%}"),
            )
        )
    if "unionhub" in results.runs and "aiokafka-two-hop" in results.ceilings:
        share = results.median("unionhub") / results.ceilings["aiokafka-two-hop"]
        rows.append(("unionhub / two-hop ceiling in its layout", f"{share:.0%}", "like for like"))
    if "unionhub" in results.runs and "unionhub-loop-off" in results.runs:
        ratio = results.median("unionhub") / results.median("unionhub-loop-off")
        rows.append(
            (
                "router, closed loop on / off",
                f"{ratio:.2f} x",
                _target(ratio >= LOOP_RATIO, f">= {LOOP_RATIO}"),
            )
        )
    if results.loop_memory is not None:
        lm = results.loop_memory
        rows.append(
            (
                f"closed loop, cost per 1,000 open cases ({lm.cases:,} open)",
                f"{lm.rss_mb_per_k:+.2f} MB RSS",
                f"state {lm.store_kb_per_case:.1f} KB per case in the local store, "
                f"{lm.changelog_kb_per_case:.1f} KB in the changelog (loop on minus off)",
            )
        )
    if results.comparison is not None:
        c = results.comparison
        rows.append(
            (
                "same dispatch output (order-independent)",
                "yes" if c.canonical_equal else f"NO ({c.canonical_differences} differ)",
                f"events {c.events[0]} / {c.events[1]}; exact (case_id, event_type, report) "
                f"multiset {'equal' if c.exact_equal else f'differs in {c.exact_differences}'}",
            )
        )
    for lat, target, top, who in (
        (results.latency, P99_MS, MAX_MS, "unionhub"),
        (results.latency_low, P99_LOW_MS, None, "unionhub"),
        (results.latency_peer, None, None, f"Quix peer, commit {PEER_LATENCY_COMMIT_S} s"),
    ):
        if lat is None:
            continue
        verdict = ""
        if target is not None:
            met = lat.p99_ms <= target and (top is None or lat.max_ms <= top)
            bound = f"p99 <= {target:.0f} ms" + (f", max <= {top:.0f} ms" if top else "")
            verdict = _target(met, bound) + "; "
        rows.append(
            (
                f"latency, {who}, at {lat.offered_per_s:,}/s for {lat.seconds} s, p50 / p99 / max",
                f"{lat.p50_ms:,.0f} / {lat.p99_ms:,.0f} / {lat.max_ms:,.0f} ms",
                verdict + f"{lat.measured} of {lat.sent} events; stage 1 p50/p99 "
                f"{lat.stage1_p50_ms:,.0f}/{lat.stage1_p99_ms:,.0f} ms, stage 2 "
                f"{lat.stage2_p50_ms:,.0f}/{lat.stage2_p99_ms:,.0f} ms",
            )
        )
    if results.memory is not None:
        mem = results.memory
        rows.append(
            (
                f"router RSS with {mem.cases:,} cases",
                f"{mem.rss_mb:,.0f} MB",
                f"changelog {mem.changelog_mb:,.0f} MB",
            )
        )
        rows.append(
            (
                "restore on restart (start -> first event)",
                f"{mem.restore_s:.1f} s",
                f"stage ready after {mem.ready_s:.1f} s",
            )
        )
        rows.append(
            (
                "cold restore, empty local store (start -> first event)",
                f"{mem.cold_restore_s:.1f} s",
                _target(mem.cold_restore_s <= COLD_RESTORE_S, f"<= {COLD_RESTORE_S:.0f} s")
                + f"; full changelog replay; RSS {mem.cold_rss_mb:,.0f} MB; "
                f"store {mem.store_mb:,.0f} MB on disk",
            )
        )
    if results.takeover is not None:
        t = results.takeover
        rows.append(
            (
                "takeover after SIGKILL of the owner (first event after the kill)",
                f"{t.takeover_s:.1f} s",
                _target(t.takeover_s <= TAKEOVER_S, f"<= {TAKEOVER_S:.0f} s")
                + f"; at {t.rate}/s, owner killed after {t.warm_s:.0f} s "
                f"({t.events_before_kill:,} events); session timeout "
                f"{t.session_timeout_ms / 1000:.0f} s; the other process held no state",
            )
        )
    rows.extend(("legal_stations round", line, "") for line in results.connectors)
    rows.extend(
        (
            f"connector {rate.channel}, faults off",
            f"{rate.per_second:,.0f} records/s",
            f"{rate.records} records in {rate.rounds} round(s), {rate.seconds:.2f} s",
        )
        for rate in results.connector_rates
    )
    out = ["| figure | value | notes |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def _cpu_per_k(runs: list[PipelineRun]) -> str:
    """Median CPU seconds the stage processes spent per 1,000 records (start-up included)."""
    return f"{statistics.median(1000 * r.cpu_seconds / r.records for r in runs):.2f}"


def _target(met: bool, text: str) -> str:
    return f"target {text}: {'met' if met else 'MISSED'}"


def machine() -> str:
    """Cores, memory and platform of this machine."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{mem_kb / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


NOTES_HEADING = "\n## Notes"


def write_markdown(results: Results, path: Path, bootstrap: str) -> None:
    """BENCHMARKS.md: date, machine, command, the table; a ``## Notes`` section is kept."""
    previous = path.read_text() if path.exists() else ""
    notes = previous[previous.index(NOTES_HEADING) :] if NOTES_HEADING in previous else ""
    path.write_text(
        "\n".join(
            [
                "# Benchmarks",
                "",
                f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}.",
                f"Broker: the project's local Kafka broker ({bootstrap}), single node.",
                f"Command: `{results.command}` ({results.records:,} raw records per run).",
                "",
                table(results),
                "",
            ]
        )
        + notes
    )


async def main_async(args: argparse.Namespace) -> Results:
    """Run against ``--bootstrap``, or against our own broker for the duration."""
    if args.bootstrap:
        results = await run_all(args, args.bootstrap)
        bootstrap = args.bootstrap
    else:
        settings = bench_settings()
        async with bench_broker(settings) as bootstrap:
            results = await run_all(args, bootstrap)
    save_results(results, bootstrap)
    print(table(results))
    write_markdown(results, args.out, bootstrap)
    return results


def save_results(results: Results, bootstrap: str) -> None:
    """Keep the figures (without the dispatch outputs) in ``RESULTS_FILE`` before rendering,
    so that ``--render`` can write the table again without a new run."""
    figures = replace(
        results,
        runs={
            system: [replace(run, output=None) for run in runs]
            for system, runs in results.runs.items()
        },
    )
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_bytes(pickle.dumps((figures, bootstrap)))


def render_saved(out: Path) -> None:
    """Print and write the table of the last run's saved figures."""
    results, bootstrap = pickle.loads(RESULTS_FILE.read_bytes())  # noqa: S301 (our own file)
    print(table(results))
    write_markdown(results, out, bootstrap)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: stage processes are stopped on the way out


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make bench``."""
    signal.signal(signal.SIGTERM, _interrupt)
    args = parse_args(argv)
    # The benchmark's own broker is plain; an external one (--bootstrap) may be secured
    # through the UNIONHUB_KAFKA_* settings of the environment.
    if args.render:
        render_saved(args.out)
        return 0
    configure_clients(bench_settings(args.bootstrap or BENCH_BOOTSTRAP), os.environ)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
