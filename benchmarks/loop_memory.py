"""What the closed loop costs per open case: process memory and state, loop on minus off.

    .venv/bin/python -m benchmarks.loop_memory [--cases 50000]

Each mode runs in a fresh subprocess (so RSS is its own): the router's two
processors in process over scenario records until ``--cases`` cases are open,
the dispatch stage writing to an on-disk store and committing every 2,000
records as the runtime does. Reported: the RSS difference per 1,000 open
cases, the store's bytes per case, and the changelog bytes per case (what the
loop adds: each case's ``l/`` state).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.kafka import REPO_ROOT

COMMIT_EVERY = 2000


@dataclass(frozen=True)
class LoopMemory:
    """The loop's cost (on minus off) per open case."""

    cases: int
    rss_mb_per_k: float
    store_kb_per_case: float
    changelog_kb_per_case: float

    def __str__(self) -> str:
        return (
            f"{self.cases:,} open cases: {self.rss_mb_per_k:+.2f} MB RSS per 1,000, "
            f"store {self.store_kb_per_case:.2f} KB/case, changelog "
            f"{self.changelog_kb_per_case:.2f} KB/case"
        )


def measure(case_loop: bool, cases: int, root: Path) -> dict[str, float]:
    """One mode, in this process: RSS, store bytes, changelog bytes and cases opened."""
    from benchmarks.data import scenario_records
    from core.kafka.topics import TopicCatalog
    from core.logging import configure_logging
    from core.settings import Settings
    from router.processor import InputRecord
    from router.stages import build_dispatch_processor, build_normalize_processor

    settings = Settings(
        namespace="loopmem.", log_format="json", log_level="warning", state_dir=root,
        case_loop=case_loop,
    )  # fmt: skip
    configure_logging(settings)
    catalog = TopicCatalog(settings.namespace)
    normalize = build_normalize_processor(settings)
    dispatch = build_dispatch_processor(settings)
    records = scenario_records(cases * 2)
    changelog_bytes = 0
    opened = 0
    offset = 0
    for n, raw in enumerate(records):
        for out in normalize.process(
            InputRecord(catalog.raw(raw.channel), 0, n, raw.key, raw.value, raw.headers, 0)
        ):
            if out.topic != catalog.router_normalized:
                continue
            for event in dispatch.process(
                InputRecord(out.topic, 0, offset, out.key, out.value, out.headers, 0)
            ):
                opened += event.value.find(b'"event_type":"new_case"') >= 0
            offset += 1
        if n % COMMIT_EVERY == COMMIT_EVERY - 1 or opened >= cases:
            changes = dispatch.take_changes()
            changelog_bytes += sum(len(k) + len(v or b"") for k, v in changes)
            dispatch.committed({0: offset})
        if opened >= cases:
            break
    store = sum(f.stat().st_size for f in root.rglob("state.sqlite*"))
    with open("/proc/self/status", encoding="ascii") as status:
        rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return {"rss_kb": rss_kb, "store": store, "changelog": changelog_bytes, "cases": opened}


def loop_memory(cases: int) -> LoopMemory:
    """Both modes in subprocesses; the difference per case."""
    results = {}
    for mode in ("on", "off"):
        root = Path(tempfile.mkdtemp(prefix="loopmem-"))
        try:
            done = subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "benchmarks.loop_memory", "--mode", mode,
                 "--cases", str(cases), "--root", str(root)],
                cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=3600,
            )  # fmt: skip
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            shutil.rmtree(root, ignore_errors=True)
    on, off = results["on"], results["off"]
    n = on["cases"]
    return LoopMemory(
        cases=int(n),
        rss_mb_per_k=(on["rss_kb"] - off["rss_kb"]) / 1024 / (n / 1000),
        store_kb_per_case=(on["store"] - off["store"]) / 1024 / n,
        changelog_kb_per_case=(on["changelog"] - off["changelog"]) / 1024 / n,
    )


def main(argv: list[str] | None = None) -> int:
    """Print the loop's memory cost (or, with ``--mode``, one mode's raw figures as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--mode", choices=["on", "off"])
    parser.add_argument("--root", type=Path)
    args = parser.parse_args(argv)
    if args.mode is not None and args.root is not None:
        print(json.dumps(measure(args.mode == "on", args.cases, args.root)))
        return 0
    print(loop_memory(args.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
