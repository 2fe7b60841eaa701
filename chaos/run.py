"""``python -m chaos.run``: the chaos run, end to end; exits 0 only if nothing was lost or doubled.

Starts its own broker (``--bootstrap``, default 127.0.0.1:29092, state under
``.cache/chaos-state``: the run stops and restarts it), the simulators in this
process (faults on, the live hour spread over ``--duration-s``), and the
daemon as a subprocess, and the simulated district federations working their
cases through its case API on a fast loop clock (:mod:`chaos.loop`); the
seeded driver kills the daemon (once while a reply sink waits on a reply the
upstream took), restarts the broker and storms the upstreams (their reply
endpoints too); then the federations stop, everything is released, the
pipeline drains, the checker judges every topic, the replies are judged
against the simulators' ledgers, the case loop and the daemon's figures
against the checker's replay, and every log and non-restricted topic is
scanned.

``--brokers 3`` runs on a three-node KRaft cluster instead (replication 3,
min.insync.replicas 2, state under ``.cache/chaos-state/cluster-3``), and the
driver SIGKILLs the leader of the busiest partition twice and restarts it
(``--leader-kills``), on top of the daemon kills; the whole-cluster restart is
then off unless ``--broker-restarts`` asks for it.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import socket
import string
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chaos.connectors import secret_values
from chaos.daemon import REPO_ROOT, AdminApi, DaemonProcess, daemon_environment
from chaos.drain import Judge, pause_connectors, wait_accounted_for, wait_router_idle
from chaos.driver import Driver
from chaos.loop import (
    LoopSetup,
    daemon_figures,
    judge_loop,
    register_tokens,
    wait_settled,
    wait_store_caught_up,
)
from chaos.plan import make_plan
from chaos.replies import judge_replies, wait_replies_told
from chaos.report import ChaosReport
from chaos.scan import ScanResult, pii_terms, scan_logs, scan_topics
from checker import Expectations
from core.kafka.clients import admin_client, configure_clients
from core.kafka.topics import TopicCatalog, ensure_topics
from core.logging import configure_logging
from core.settings import Settings
from devtools.broker import LocalBroker, answers
from devtools.kafka_cluster import LocalCluster
from devtools.namespaces import drop_namespace
from simulators import SimulatorOptions, start_simulators
from simulators.export import write_expectations
from simulators.federations import run_federations

DEFAULT_BOOTSTRAP = "127.0.0.1:29092"
RUN_DIRS = ("logs", "secrets", "daemon-state")  # what a run writes under --out, with:
RUN_FILES = ("expected.json", "federations.jsonl")  # the truth, the federations' attempts
DRAIN_TIMEOUT_S = 600.0  # generous: a 2-core box with other work on it


@dataclass(frozen=True)
class ChaosOptions:
    """One chaos run's knobs (see ``--help``)."""

    seed: int = 8
    incidents: int = 400
    kills: int = 10
    broker_restarts: int = 1
    duration_s: float = 180.0
    fault_rate: float = 0.05
    out: Path = REPO_ROOT / ".cache" / "chaos-run"
    bootstrap: str = DEFAULT_BOOTSTRAP
    state_dir: Path = REPO_ROOT / ".cache" / "chaos-state"
    kafka_heap: str = "1g"
    brokers: int = 1
    leader_kills: int = 0

    @classmethod
    def short(cls, **overrides: Any) -> ChaosOptions:
        """The CI version: a small scenario, 3 kills, one broker restart, every storm briefly."""
        return replace(cls(incidents=100, kills=3, duration_s=45.0), **overrides)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_chaos(options: ChaosOptions) -> ChaosReport:
    """The whole run; its figures (the caller decides what to do with a failure)."""
    started = time.monotonic()
    # Letters only: no random id may read as a phone number to a PII scanner.
    namespace = "chaos" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8)) + "."
    settings = Settings(
        kafka_bootstrap=options.bootstrap,
        state_dir=options.state_dir,
        kafka_heap=options.kafka_heap,
        namespace=namespace,
    )
    configure_clients(settings)
    _clear_previous_run(options.out)
    broker = _broker(settings, options.brokers)
    settings = settings.model_copy(update={"kafka_bootstrap": broker.bootstrap})
    if not _running(broker) and await answers(options.bootstrap):
        raise RuntimeError(f"{options.bootstrap} is taken: the chaos run needs its own broker")
    await broker.up(timeout_s=180)
    try:
        async with admin_client(settings.kafka_bootstrap) as admin:
            replicas = 3 if options.brokers >= 3 else 1
            await ensure_topics(admin, TopicCatalog(namespace).specs(), replicas)
        report = await _run_with_broker(options, settings, broker)
    finally:
        if await answers(settings.kafka_bootstrap):
            await drop_namespace(settings.kafka_bootstrap, namespace)
        await broker.down()
    report.seconds = time.monotonic() - started
    return report


def _clear_previous_run(out: Path) -> None:
    """Remove what an earlier run left in ``out``, so the scan reads this run's logs only.

    Only the run's own files: ``out`` may be a directory that holds other things.
    """
    for name in (*RUN_DIRS, *RUN_FILES):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _broker(settings: Settings, brokers: int) -> LocalBroker | LocalCluster:
    """The run's own broker, or its own cluster of ``brokers`` nodes (state apart)."""
    if brokers == 1:
        return LocalBroker(settings)
    state = settings.state_dir / f"cluster-{brokers}"
    return LocalCluster(settings.model_copy(update={"state_dir": state}), brokers=brokers)


def _running(broker: LocalBroker | LocalCluster) -> bool:
    if isinstance(broker, LocalBroker):
        return broker.running_pid() is not None
    return any(node.running_pid() is not None for node in broker.nodes)


async def _run_with_broker(
    options: ChaosOptions, settings: Settings, broker: LocalBroker | LocalCluster
) -> ChaosReport:
    sim_options = SimulatorOptions(
        seed=options.seed,
        incidents=options.incidents,
        speed=3600.0 / options.duration_s,
        fault_rate=options.fault_rate,
    )
    async with start_simulators(sim_options) as sims:
        expectations = Expectations.load(write_expectations(sims, options.out))
        handed_out = set(secret_values(sims))
        admin_token = secrets.token_urlsafe(24)
        pseudonym_key = secrets.token_urlsafe(24)
        port = free_port()
        loop = LoopSetup.for_window(options.duration_s)
        await register_tokens(settings, loop.tokens, options.out / RUN_DIRS[1])
        environment = loop.environment() | daemon_environment(
            bootstrap=settings.kafka_bootstrap,
            namespace=settings.namespace,
            http_port=port,
            admin_token=admin_token,
            pseudonym_key=pseudonym_key,
            secrets_dir=options.out / RUN_DIRS[1],
            state_dir=options.out / RUN_DIRS[2],
        )
        daemon = DaemonProcess(environment, options.out / RUN_DIRS[0])
        daemon_url = f"http://127.0.0.1:{port}"
        admin = AdminApi(daemon_url, admin_token)
        federations = loop.federations(
            options.seed, daemon_url, settings, options.out / RUN_FILES[1]
        )
        plan = make_plan(
            options.seed,
            options.duration_s,
            options.kills,
            options.broker_restarts,
            options.leader_kills,
        )
        driver = Driver(
            plan,
            sims,
            daemon,
            admin,
            broker,
            options.out / RUN_DIRS[1],
            TopicCatalog(settings.namespace),
        )
        try:
            await driver.start_daemon()
            async with run_federations(federations) as feds:
                tally = await driver.run()
            handed_out |= set(secret_values(sims))  # the rotated secret too
            sims.release_all()
            await wait_settled(settings, DRAIN_TIMEOUT_S)

            def refreshed() -> Expectations:
                return Expectations.load(write_expectations(sims, options.out))

            judge = Judge(settings, expectations, pii_terms(sims), refresh=refreshed)
            await wait_replies_told(settings, sims, driver.sinks, DRAIN_TIMEOUT_S)
            await pause_connectors(admin, driver.sinks.values(), DRAIN_TIMEOUT_S)
            await wait_accounted_for(judge, DRAIN_TIMEOUT_S)
            await pause_connectors(admin, driver.connectors, DRAIN_TIMEOUT_S)
            await wait_router_idle(settings, DRAIN_TIMEOUT_S)
            check = await judge.report()
            replies = await judge_replies(settings, sims, driver.sinks)
            faults = sims.fault_counts()
            daemon_settings = settings.model_copy(update={"state_dir": options.out / RUN_DIRS[2]})
            await wait_store_caught_up(daemon_settings, DRAIN_TIMEOUT_S)
            month = await daemon_figures(daemon_url, loop.tokens["city"])
            loop_figures = await judge_loop(settings, loop, month, tally.downtime, feds.ledger())
        finally:
            await daemon.stop()
        scan = ScanResult()
        every_secret = [*handed_out, admin_token, pseudonym_key, *loop.tokens.values()]
        logs = [*daemon.logs, *broker.logs()]
        scan_logs(logs, pii_terms(sims), every_secret, scan)
        await scan_topics(
            settings.kafka_bootstrap, settings.namespace, pii_terms(sims), every_secret, scan
        )
    return ChaosReport(
        check=check,
        tally=tally,
        faults=faults,
        scan=scan,
        seconds=0.0,
        replies=replies,
        loop=loop_figures,
    )


def parse_options(argv: list[str] | None = None) -> ChaosOptions:
    """The options of the command line (``--short`` changes the defaults, not given values)."""
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__)
    parser.add_argument(
        "--short", action="store_true", help="the CI version (100 incidents, 3 kills, 45 s)"
    )
    parser.add_argument("--seed", type=int, help="scenario, faults and schedule (default 8)")
    parser.add_argument("--incidents", type=int, help="scenario size (default 400; short 100)")
    parser.add_argument("--kills", type=int, help="daemon SIGKILLs (default 10; short 3)")
    parser.add_argument("--broker-restarts", type=int, help="broker stop/starts (default 1)")
    parser.add_argument("--duration-s", type=float, help="the chaos window (default 180; short 45)")
    parser.add_argument("--fault-rate", type=float, help="simulators' base fault rate (0.05)")
    parser.add_argument("--out", type=Path, help="where logs, secrets, expected.json go")
    parser.add_argument("--state-dir", type=Path, help="the broker's state (.cache/chaos-state)")
    parser.add_argument("--bootstrap", help=f"the run's own broker (default {DEFAULT_BOOTSTRAP})")
    parser.add_argument(
        "--brokers", type=int, help="nodes of the run's KRaft cluster (default 1; 3: replicated)"
    )
    parser.add_argument(
        "--leader-kills", type=int, help="SIGKILLs of the busiest leader broker (default 2 with 3)"
    )
    args = parser.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if k != "short" and v is not None}
    if given.get("brokers", 1) >= 3:
        given.setdefault("leader_kills", 2)
        given.setdefault("broker_restarts", 0)  # broker loss is the leader kills
        given.setdefault("kafka_heap", "512m")  # three JVMs on the box
    return ChaosOptions.short(**given) if args.short else ChaosOptions(**given)


def main(argv: list[str] | None = None) -> int:
    """Run, print the figures; 0 only when nothing was lost, nothing doubled, nothing leaked."""
    options = parse_options(argv)
    configure_logging(Settings())  # info and up (UNIONHUB_LOG_LEVEL), masked like the daemon's
    print(f"chaos run: {options}", flush=True)
    try:
        report = asyncio.run(run_chaos(options))
    except TimeoutError as exc:  # the pipeline never drained, a daemon never started...
        print(f"== FAIL: {exc} ==", flush=True)
        return 1
    print(report.format(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
