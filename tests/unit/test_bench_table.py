"""``make bench``'s table: every part of a full run renders, beside its target, and the figures
kept before rendering render the same table again."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.compare import Comparison
from benchmarks.connector_rates import ConnectorRate
from benchmarks.latency import LatencyResult
from benchmarks.loop_memory import LoopMemory
from benchmarks.memory import MemoryResult
from benchmarks.pipeline import PipelineRun
from benchmarks.takeover import TakeoverResult


def _latency(rate: int, p99: float) -> LatencyResult:
    return LatencyResult(rate, 60, rate * 60, rate * 60, p99 / 2, p99, p99 * 1.5, 10, 20, 30, 40)


def full_run() -> run.Results:
    """The figures of a run with every part, made up."""
    results = run.Results(command="python -m benchmarks.run", records=1000, router_processes=2)
    results.ceilings = {"aiokafka": 30_000.0, "aiokafka-two-hop": 20_000.0}
    results.runs = {
        system: [PipelineRun(system, 1000, seconds, None, 0.9 * n, 100) for n in (1, 2, 3)]
        for system, seconds in (("unionhub", 1.0), ("quix", 1.2), ("unionhub-loop-off", 0.6))
    }
    results.comparison = Comparison((1000, 1000), False, 12, True, 0)
    results.latency = _latency(2000, 900)
    results.latency_low = _latency(200, 140)
    results.latency_peer = _latency(2000, 5000)
    results.memory = MemoryResult(1_000_000, 1500, 2.0, 3.0, 220, 230, 90, 95, 220, 230, 4800)
    results.takeover = TakeoverResult(200, 20.0, 7.2, 3900)
    results.loop_memory = LoopMemory(50_000, 0.7, 2.9, 2.2)
    results.connectors = ["stations: 251, down: 26"]
    results.connector_rates = [ConnectorRate("citizen_app", 2839, 0.53, 1)]
    return results


def test_every_part_of_a_full_run_is_a_row_with_its_verdict() -> None:
    rendered = run.table(full_run())
    for figure, verdict in [
        ("unionhub / Quix Streams | 1.20 x", "target >= 2.0: MISSED"),
        ("CPU per 1,000 records, all router processes | 1.80 s", "<= 0.15 s: MISSED"),
        ("unionhub / ceiling (aiokafka) | 3%", ">= 40%: MISSED"),
        ("router, closed loop on / off | 0.60 x", ">= 0.9: MISSED"),
        ("latency, unionhub, at 2,000/s for 60 s, p50 / p99 / max | 450 / 900 / 1,350", "MISSED"),
        ("latency, unionhub, at 200/s for 60 s, p50 / p99 / max | 70 / 140 / 210", "met"),
        ("latency, Quix peer, commit 0.1 s, at 2,000/s", "120000 of 120000 events"),
        ("cold restore, empty local store (start -> first event) | 95.0 s", "MISSED"),
        ("takeover after SIGKILL of the owner", "7.2 s | target <= 5 s: MISSED"),
        ("same dispatch output (order-independent) | yes", "differs in 12"),
    ]:
        line = next((row for row in rendered.splitlines() if figure in row), None)
        assert line is not None, f"no row {figure!r} in\n{rendered}"
        assert verdict in line, line


def test_the_saved_figures_render_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "RESULTS_FILE", tmp_path / "results.pickle")
    results = full_run()
    run.save_results(results, "127.0.0.1:39092")
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nold table\n\n## Notes\n\nkept\n")
    run.render_saved(out)
    written = out.read_text()
    assert run.table(results) in written
    assert "old table" not in written
    assert written.endswith("## Notes\n\nkept\n")
