"""Throughput of a two-stage router (unionhub's or the Quix Streams peer) over pre-loaded data.

The raw topics of a fresh namespace are loaded first (committed); then the
two stages start as processes. The clock runs from the first record written
to ``router_normalized`` (the first record consumed and processed) to the
moment the dispatch stage's group has committed the last normalized record,
after the normalize stage's group committed the last raw one.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compare import DispatchOutput
from benchmarks.data import RawRecord, preload
from benchmarks.kafka import (
    REPO_ROOT,
    Progress,
    delete_namespace,
    fresh_catalog,
)
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from devtools.polling import poll_until
from router.stages import DISPATCH_STAGE, NORMALIZE_STAGE

LOG_DIR = REPO_ROOT / ".cache" / "bench-logs"
WAIT_S = 3600.0  # a run waits this long for a stage to get somewhere before it gives up
SYSTEMS = ("unionhub", "quix")


@dataclass(frozen=True)
class PipelineRun:
    """One timed run: records, seconds from first consumed to last committed, its output."""

    system: str
    records: int
    seconds: float
    output: DispatchOutput | None
    cpu_seconds: float = 0.0  # user + system CPU of the stage processes, start-up included
    peak_rss_mb: float = 0.0  # the largest stage process's peak resident memory

    @property
    def per_second(self) -> float:
        """Records processed end to end per second."""
        return self.records / self.seconds


def stage_env(bootstrap: str, catalog: TopicCatalog) -> dict[str, str]:
    """The environment of a stage process: the benchmark's broker and namespace."""
    env = dict(os.environ)
    env.update(
        UNIONHUB_KAFKA_BOOTSTRAP=bootstrap,
        UNIONHUB_NAMESPACE=catalog.namespace,
        UNIONHUB_LOG_FORMAT="json",
        UNIONHUB_STATE_DIR=str(REPO_ROOT / ".cache" / "bench-state"),
    )
    return env


def spawn(argv: Sequence[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
    """Start a stage process, its output to ``.cache/bench-logs/<log_name>.log``."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / f"{log_name}.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            list(argv), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )


def stop(processes: Sequence[subprocess.Popen[bytes]], timeout_s: float = 30.0) -> None:
    """SIGTERM each process we started, then SIGKILL what is still there after ``timeout_s``."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def unionhub_argv(processes: int = 1) -> list[list[str]]:
    """``unionhub router run`` in ``processes`` processes (stage 1 spreads over all of them)."""
    return [[sys.executable, "-m", "unionhub", "router", "run"] for _ in range(processes)]


LAYOUTS = ("split", "all")


def unionhub_stages(processes: int, layout: str = "split") -> list[str]:
    """``UNIONHUB_ROUTER_STAGES`` of each router process.

    ``split`` (with two processes or more): the stateful dispatch stage alone
    on the first process, normalize on the others, the peer's layout (one
    process per stage). ``all``: every process runs both stages.
    """
    if layout == "all" or processes < 2:
        return ["all"] * processes
    return ["dispatch"] + ["normalize"] * (processes - 1)


def quix_argv() -> list[list[str]]:
    """The peer: one Quix application per stage."""
    return [
        [sys.executable, "-m", "benchmarks.quix_peer", "normalize"],
        [sys.executable, "-m", "benchmarks.quix_peer", "dispatch"],
    ]


def groups(system: str, catalog: TopicCatalog) -> tuple[str, str]:
    """The consumer groups of the normalize and dispatch stages of ``system``."""
    if system == "unionhub":
        return catalog.router_group(NORMALIZE_STAGE), catalog.router_group(DISPATCH_STAGE)
    return f"{catalog.namespace}quix-normalize", f"{catalog.namespace}quix-dispatch"


async def run_pipeline(
    system: str,
    bootstrap: str,
    records: list[RawRecord],
    *,
    keep_output: bool,
    processes: int = 1,
    layout: str = "split",
    case_loop: bool = True,
) -> PipelineRun:
    """Load ``records`` into a fresh namespace, run ``system`` over them, time it.

    ``processes`` is the number of ``unionhub router run`` processes, with the
    stages laid out as :func:`unionhub_stages` says (the peer always runs one
    process per stage); ``case_loop`` switches unionhub's closed loop on or off.
    """
    catalog = await fresh_catalog(bootstrap, system[0])
    try:
        await asyncio.to_thread(preload, bootstrap, catalog, records, f"{catalog.namespace}load")
        argvs = unionhub_argv(processes) if system == "unionhub" else quix_argv()
        env = stage_env(bootstrap, catalog) | {"UNIONHUB_CASE_LOOP": str(case_loop).lower()}
        envs = [env] * len(argvs)
        if system == "unionhub":
            envs = [
                {**env, "UNIONHUB_ROUTER_STAGES": stages}
                for stages in unionhub_stages(processes, layout)
            ]
        normalize_group, dispatch_group = groups(system, catalog)
        async with Progress(bootstrap) as progress:
            raw_ends = await progress.last_records(*catalog.raw_topics())
            cpu_before = _children_cpu()
            children = [
                spawn(argv, envs[n], f"{catalog.namespace}{system}-{n}")
                for n, argv in enumerate(argvs)
            ]
            try:

                async def started() -> bool:
                    _check_alive(children)
                    return await progress.written(catalog.router_normalized) > 0

                async def normalized() -> bool:
                    _check_alive(children)
                    return await progress.group_done(normalize_group, raw_ends)

                first = await poll_until(started, timeout_s=WAIT_S, every_s=0.01)
                await poll_until(normalized, timeout_s=WAIT_S, every_s=0.05)
                normalized_ends = await progress.last_records(catalog.router_normalized)

                async def dispatched() -> bool:
                    _check_alive(children)
                    return await progress.group_done(dispatch_group, normalized_ends)

                last = await poll_until(dispatched, timeout_s=WAIT_S, every_s=0.05)
                peak_mb = max(_peak_rss_mb(child.pid) for child in children)
            finally:
                await asyncio.to_thread(stop, children)
            cpu = _children_cpu() - cpu_before
        output = None
        if keep_output:
            output = DispatchOutput.of(await read_to_end(bootstrap, *catalog.dispatch_topics()))
        return PipelineRun(system, len(records), last - first, output, cpu, peak_mb)
    finally:
        await delete_namespace(bootstrap, catalog)
        for state in (REPO_ROOT / ".cache" / "bench-state").glob(f"quix-{catalog.namespace}*"):
            shutil.rmtree(state, ignore_errors=True)
        # The router's local dispatch stores (router.dispatch.state.store) of this namespace.
        stores = REPO_ROOT / ".cache" / "bench-state" / "router"
        for state in stores.glob(f"{catalog.namespace}*"):
            shutil.rmtree(state, ignore_errors=True)


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's children reaped so far.

    Robust to a busy machine where wall-clock rates are not: a stage process
    that waits for a core does not use CPU meanwhile.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _check_alive(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is not None:
            raise RuntimeError(
                f"stage process {' '.join(map(str, process.args))} exited with "  # type: ignore[arg-type]
                f"{process.returncode}; see {LOG_DIR}"
            )


def log_path(name: str) -> Path:
    """Where the log of stage process ``name`` goes."""
    return LOG_DIR / f"{name}.log"
