"""End-to-end pipeline harness: simulators in-process, connectors and routers as processes.

Starts ``python -m unionhub intake run`` and ``python -m unionhub router run``
against a test namespace (each with its own log file, which tests scan for
personal data), and waits for the pipeline to drain on conditions: every
expected version accounted for by the checker, then the connectors stopped
and both router stages committed past the end of their input.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from chaos.connectors import write_connector_configs
from chaos.kafka import past_last_records
from chaos.scan import pii_terms
from checker import CheckReport, Expectations, check, read_observed
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.stages import dispatch_stage_config, normalize_stage_config
from simulators import Simulators
from simulators.export import write_expectations
from tests.integration.router_stage_main import (
    kill_hard,
    spawn_module,
    stop_gently,
    wait_committed,
)
from tests.kafka_helpers import eventually

DRAIN_TIMEOUT_S = 300.0  # generous: a 2-core CI box, with faults and router failovers


@dataclass
class Pipeline:
    """The processes of one end-to-end run and where their logs go."""

    settings: Settings
    work: Path
    sims: Simulators
    expectations: Expectations = field(init=False)
    intake: subprocess.Popen[bytes] | None = None
    routers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.expectations = Expectations.load(write_expectations(self.sims, self.work))

    @property
    def topics(self) -> TopicCatalog:
        """The test namespace's topics."""
        return TopicCatalog(self.settings.namespace)

    def start_intake(self) -> None:
        """``unionhub intake run`` of every channel's config, as one process."""
        paths = write_connector_configs(self.sims, self.work / "connectors")
        log = self.work / "intake.log"
        self.logs.append(log)
        argv = ["unionhub", "intake", "run", *(str(p) for p in paths)]
        self.intake = spawn_module(self.settings, argv, log)

    def start_router(self, name: str) -> None:
        """One more ``unionhub router run`` process, logging to ``router-<name>.log``."""
        log = self.work / f"router-{name}.log"
        self.logs.append(log)
        self.routers[name] = spawn_module(self.settings, ["unionhub", "router", "run"], log)

    async def kill_router(self, name: str) -> None:
        """SIGKILL one router process (no clean shutdown at all)."""
        await asyncio.to_thread(kill_hard, self.routers.pop(name))

    async def check(self, *, live: bool = True) -> CheckReport:
        """The checker's figures of what the namespace holds now (a live run unless told)."""
        observed = await read_observed(self.settings.kafka_bootstrap, self.settings.namespace)
        return check(self.expectations, observed, live=live, pii_terms=pii_terms(self.sims))

    async def drain(self, *, live: bool) -> CheckReport:
        """Wait until the pipeline has nothing left to do; the final figures.

        ``live=False`` judges them against the settled view exactly (for runs whose
        connectors first read after ``release_all()``).

        First every expected version and dead letter must be accounted for
        (the checker's ``lost`` at 0); then the connectors are stopped, so the
        raw topics end, and both router groups must commit past the end of
        their input: no further output can follow.
        """

        last: list[CheckReport] = []

        async def all_accounted_for() -> bool:
            last[:] = [await self.check()]
            return last[0].lost == 0 and last[0].dead_letters_missing == 0

        try:
            await eventually(all_accounted_for, timeout_s=DRAIN_TIMEOUT_S, every_s=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the last figures:\n{last[0].format()}") from None
        assert self.intake is not None
        assert await asyncio.to_thread(stop_gently, self.intake) == 0, "intake stops cleanly"
        bootstrap = self.settings.kafka_bootstrap
        raw = await past_last_records(bootstrap, *self.topics.raw_topics())
        await wait_committed(bootstrap, normalize_stage_config(self.settings).group_id, raw)
        normalized = await past_last_records(bootstrap, self.topics.router_normalized)
        await wait_committed(bootstrap, dispatch_stage_config(self.settings).group_id, normalized)
        return await self.check(live=live)

    async def stop_routers(self) -> list[int]:
        """SIGTERM every router still running; their exit codes."""
        codes = [await asyncio.to_thread(stop_gently, p) for p in self.routers.values()]
        self.routers.clear()
        return codes

    def log_text(self) -> str:
        """Everything the processes wrote to stdout and stderr."""
        return "\n".join(p.read_text("utf-8", errors="replace") for p in self.logs if p.exists())
