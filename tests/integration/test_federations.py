"""The simulated federations against the real daemon: the loop turns, each action is applied
once, refusals are only the expected ones, and `unionhub stats` fills up per district.

The loop runs 30,000 times faster than the wall clock (a working day in under 3 s) from
Monday 1 June 2026, 00:00 CST (the anchor is chosen for that, whatever day the test runs),
so June's real calendar applies: weekends, and the Dragon Boat Festival on the 19th.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caseloop.calendar import CST, WorkingDayCalendar
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.caseloop import CaseState, CaseStatus
from schemas.shenzhen import DISTRICTS
from simulators import SimulatorOptions, start_simulators
from simulators.federations import (
    FederationOptions,
    Outcome,
    anchor_for,
    next_step,
    run_federations,
)
from tests.conftest import REPO_ROOT
from tests.integration.daemon_harness import RunningDaemon, running_daemon
from tests.integration.test_case_api import set_tokens
from tests.kafka_helpers import eventually, read_to_end
from unionhub.cli.stats import COLUMNS

pytestmark = pytest.mark.integration

SPEED = 30_000.0
LOOP_START = datetime(2026, 6, 1, tzinfo=CST)
IN_JUNE = "2026-06-15T12:00:00+08:00"
# Of loop time (about 9 s of wall time): a waiting worker looks again every 5 s of wall time
# (an emergency may have shortened its clocks), and the API's answers take a moment.
SLACK_DAYS = 3
ACTORS = [*(d.slug for d in DISTRICTS), "city"]
LABELS = [label for _, label in COLUMNS]


def tokens() -> dict[str, str]:
    return {actor: f"{actor}-federation-token-4b7d1e" for actor in ACTORS}


async def case_states(settings: Settings, topics: TopicCatalog) -> dict[str, CaseState]:
    states: dict[str, CaseState] = {}
    for record in await read_to_end(settings.kafka_bootstrap, topics.cases_state):
        key = (record.key or b"").decode()
        if record.value is None:
            states.pop(key, None)
        else:
            states[key] = CaseState.model_validate_json(record.value)
    return states


def _assigned_then_accepted(state: CaseState) -> bool:
    """The city desk assigned the case (from triage, or after a return) and its district took it."""
    kinds = [e.action for e in state.history]
    return "assign" in kinds and "accept" in kinds[kinds.index("assign") :]


async def register_connectors(daemon: RunningDaemon, configs: dict[str, dict[str, object]]) -> None:
    for config in configs.values():
        status, body = await daemon.call(
            "POST", "/connectors", json=config | {"poll_interval_s": 0.5}
        )
        assert status == 201, body


async def stats_table(settings: Settings, anchor: datetime) -> str:
    env = {
        **os.environ,
        "UNIONHUB_NAMESPACE": settings.namespace,
        "UNIONHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "UNIONHUB_STATE_DIR": str(settings.state_dir),
        "UNIONHUB_LOOP_SPEED": str(SPEED),
        "UNIONHUB_LOOP_ANCHOR": anchor.isoformat(),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unionhub",
        "stats",
        "--period",
        "month",
        "--at",
        IN_JUNE,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_federations_turn_the_loop_through_the_api(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    await set_tokens(settings, tokens())
    anchor = anchor_for(LOOP_START, SPEED, datetime.now(UTC))
    loop_env = {"UNIONHUB_LOOP_SPEED": str(SPEED), "UNIONHUB_LOOP_ANCHOR": anchor.isoformat()}
    simulated = SimulatorOptions(
        seed=21, incidents=40, speed=1000, fault_rate=0.0, stations=11, live_fraction=0.0
    )
    federated = FederationOptions(
        seed=21,
        daemon_url="",
        tokens=tokens(),
        bootstrap=settings.kafka_bootstrap,
        namespace=settings.namespace,
        speed=SPEED,
        anchor=anchor,
        ledger_path=tmp_path / "ledger.jsonl",
    )
    async with (
        start_simulators(simulated) as sims,
        running_daemon(settings, tmp_path, env=loop_env) as daemon,
    ):
        sims.release_all()
        await register_connectors(daemon, sims.connector_configs)
        options = FederationOptions(**{**federated.__dict__, "daemon_url": daemon.base_url})
        async with run_federations(options) as feds:

            async def loop_turned() -> bool:
                states = (await case_states(settings, topics)).values()
                actions = Counter(e.action for s in states for e in s.history)
                closed_by_visit = sum(
                    s.status is CaseStatus.CLOSED and s.satisfaction is not None for s in states
                )
                moved = sum(_assigned_then_accepted(s) for s in states)
                return (
                    actions["accept"] >= 5
                    and actions["resolve"] >= 3
                    and closed_by_visit >= 2
                    and actions["return"] >= 1
                    and moved >= 2
                )

            await eventually(loop_turned, timeout_s=180, every_s=1.0)
            states = await case_states(settings, topics)
            # Nothing the federations meant to do long ago is left undone (none dropped a case).
            long_ago = feds.clock.now() - timedelta(days=SLACK_DAYS)
            for state in states.values():
                step = next_step(21, state.district or "city", state, WorkingDayCalendar())
                assert step is None or step.at > long_ago, (step, state.history)
        ledger = feds.log
        states = await case_states(settings, topics)

    histories = Counter(e.action_id for s in states.values() for e in s.history)
    applied = ledger.applied_ids()
    assert len(applied) >= 10
    in_cases = {i for i in applied if histories[i]}
    assert len(in_cases) >= 0.9 * len(applied)  # the others' cases merged away
    assert all(histories[i] == 1 for i in in_cases)
    assert all(i.startswith("sim-") for i in applied)
    refusals = ledger.refusals()
    assert all(e.status == 409 and e.expected for e in refusals), refusals
    assert all(e.outcome is not Outcome.INVALID for e in ledger.entries())
    assert (tmp_path / "ledger.jsonl").read_text().count("\n") == len(ledger.entries())
    statuses = Counter(s.status for s in states.values())
    assert statuses[CaseStatus.CLOSED] >= 2
    assert "13812345678" not in daemon.log_text()

    table = await stats_table(settings, anchor)
    rows = {
        cells[0]: dict(zip(LABELS, cells[1:], strict=True))
        for line in table.splitlines()[2:]
        if (cells := re.split(r"\s{2,}", line.strip()))
    }
    assert set(rows) == set(ACTORS), table
    june = [s for s in states.values() if s.district and s.dispatched_at.month == 6]
    for district in {str(s.district) for s in june}:
        assert int(rows[district]["派发"]) > 0, table
        assert rows[district]["签收率"] != "-", table
    for column in ("签收率", "按时签收率", "办结率", "按时办结率", "满意率"):
        assert rows["city"][column] != "-", table
