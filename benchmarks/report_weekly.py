"""How long ``unionhub report weekly`` takes over a large case store (default 100,000 cases).

    .venv/bin/python -m benchmarks.report_weekly [--cases 100000] [--runs 3]

Fills an embedded (SQLite) case store under ``.cache/bench-report/`` with
synthetic, seeded contents (:mod:`benchmarks.casedata`: 12 weeks of cases,
their dispatch events, states through the real loop rules, risk and SLA
alerts; kept for the next run), then runs the real command
(``python -m unionhub report weekly``, a new process each time: start-up,
queries, charts, HTML and PDF) and prints each run's wall time and the
report's size, with the CPU time the command used (on a shared 2-core machine the
wall time moves with the load; the load average is printed too). Filling is not timed.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.casedata import Spec, generate
from review.store import case_store_path
from review.store.sqlite import SqliteCaseStore

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "benchreport."


def fill(state_dir: Path, cases: int, now: datetime) -> Path:
    """The store of ``cases`` synthetic cases (made once per size)."""
    from core.settings import Settings

    path = case_store_path(Settings(state_dir=state_dir, namespace=NAMESPACE))
    marker = path.with_suffix(f".{cases}.filled")
    if marker.exists():
        return path
    path.unlink(missing_ok=True)
    store = SqliteCaseStore(path)
    started = time.monotonic()
    for batch in generate(Spec(cases=cases, now=now)):
        store.apply(batch, {})
    store.close()
    marker.write_text(now.isoformat())
    print(f"filled {cases} cases in {time.monotonic() - started:.0f} s ({path})")
    return path


def _children_cpu() -> float:
    """User + system seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Fill, then time the report; exit 0 when every run wrote its files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    state_dir = REPO / ".cache" / "bench-report" / "state"
    out = REPO / ".cache" / "bench-report" / "out"
    path = fill(state_dir, args.cases, datetime.now(UTC))
    store = SqliteCaseStore(path, read_only=True)
    (counts,) = store.select(
        "SELECT (SELECT count(DISTINCT case_id) FROM events), (SELECT count(*) FROM events), "
        "(SELECT count(*) FROM sla_alerts), (SELECT count(*) FROM risk_alerts)"
    )
    store.close()
    print(f"store: {counts[0]} cases, {counts[1]} events, {counts[2]} SLA alerts, "
          f"{counts[3]} risk alerts")  # fmt: skip
    env = {**os.environ, "UNIONHUB_STATE_DIR": str(state_dir), "UNIONHUB_NAMESPACE": NAMESPACE,
           "UNIONHUB_KAFKA_BOOTSTRAP": "127.0.0.1:1"}  # fmt: skip  # no broker: shipped calendar
    argv_report = [sys.executable, "-m", "unionhub", "report", "weekly", "--out", str(out)]
    for run in range(1, args.runs + 1):
        cpu_before = _children_cpu()
        started = time.monotonic()
        done = subprocess.run(argv_report, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        seconds = time.monotonic() - started
        cpu = _children_cpu() - cpu_before
        if done.returncode != 0:
            print(done.stderr[-2000:])
            return 1
        pdf = next(out.glob("weekly-*.pdf"))
        pages = subprocess.run(  # noqa: S603
            ["/usr/bin/pdfinfo", str(pdf)], capture_output=True, text=True, check=False
        ).stdout
        count = next(
            (line.split()[-1] for line in pages.splitlines() if line.startswith("Pages")), "?"
        )
        print(f"run {run}: report weekly over {counts[0]} cases in {seconds:.1f} s wall, "
              f"{cpu:.1f} s CPU (PDF {pdf.stat().st_size // 1024} KiB, {count} pages; "
              f"load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
