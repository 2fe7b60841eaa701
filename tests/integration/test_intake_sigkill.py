"""`unionhub intake run`, SIGKILLed mid-run again and again, loses and doubles nothing.

All five connectors run in one process against the simulators (faults on).
The process is killed with SIGKILL as soon as it has made progress, several
times, then restarted for good: afterwards every expected record version is
in ``intake.raw.*`` exactly once and every dead letter in ``intake.dlq``
exactly once. SIGTERM then stops it cleanly. The process's log lines (JSON,
through the project's masker) hold no ID number, phone number or secret.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from chaos.scan import pii_terms
from checker.pii import KnownNumbers, clear_number
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEYS = ("client_secret", "api_key", "app_secret", "password", "token")
KILLS = 3


def write_configs(sims: Simulators, directory: Path) -> tuple[list[Path], dict[str, str]]:
    """One YAML per channel, secrets as ${env:...} references; returns files and the env."""
    files, env = [], {}
    for channel in Channel:
        raw: dict[str, Any] = dict(sims.connector_configs[channel.value])
        raw["poll_interval_s"] = 0.2
        if channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
            raw["backfill_s"] = 8 * 86400
        if channel is Channel.LEGAL_STATIONS:
            raw["request_timeout_s"] = 1.0
        for key in SECRET_KEYS:
            if key in raw:
                variable = f"UNIONHUB_TEST_{channel.value.upper()}_{key.upper()}"
                env[variable] = str(raw[key])
                raw[key] = f"${{env:{variable}}}"
        path = directory / f"{channel.value}.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        files.append(path)
    return files, env


async def landed(settings: Settings, topics: TopicCatalog) -> list[tuple[str, str, str]]:
    records = await read_to_end(settings.kafka_bootstrap, *topics.raw_topics())
    values = [orjson.loads(r.value) for r in records]
    return [(v["channel"], v["external_id"], v["version"]) for v in values]


async def test_sigkill_restarts_keep_intake_exactly_once(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    options = SimulatorOptions(seed=11, incidents=80, speed=1000.0)  # default fault rate
    async with start_simulators(options) as sims:
        sims.release_all()
        files, secret_env = write_configs(sims, tmp_path)
        env = {
            **os.environ,
            **secret_env,
            "UNIONHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "UNIONHUB_NAMESPACE": settings.namespace,
            "UNIONHUB_LOG_FORMAT": "json",
            "UNIONHUB_LOG_LEVEL": "info",
        }
        logs: list[Path] = []

        async def launch() -> asyncio.subprocess.Process:
            log_path = tmp_path / f"run-{len(logs)}.log"
            logs.append(log_path)
            with log_path.open("wb") as stderr:
                return await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "unionhub",
                    "intake",
                    "run",
                    *map(str, files),
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=stderr,
                )

        for _ in range(KILLS):
            before = len(await landed(settings, topics))
            process = await launch()

            async def progressed(before: int = before) -> bool:
                return len(await landed(settings, topics)) > before

            await eventually(progressed, timeout_s=60)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL

        # The last run: stations that the fault schedule keeps down for minutes come back.
        sims.set_fault_rate(0.0)
        process = await launch()
        expected = {
            (e.channel, e.external_id, e.version) for e in sims.scenario.expected_versions()
        }
        possible = {
            (e.channel, e.external_id, e.version) for e in sims.scenario.possible_versions()
        }

        async def all_landed() -> bool:
            return expected <= set(await landed(settings, topics))

        await eventually(all_landed, timeout_s=90)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        expected_dead = Counter(
            (d.channel, d.external_id, d.kind) for d in sims.scenario.expected_dead_letters()
        )
        secrets = list(secret_env.values())
        known = KnownNumbers.of(pii_terms(sims))

    versions = await landed(settings, topics)
    assert [v for v, n in Counter(versions).items() if n > 1] == []
    assert expected <= set(versions) <= possible
    dlq = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
    dead = [orjson.loads(r.value) for r in dlq]
    assert Counter((d["channel"], d["external_id"], d["error"]["kind"]) for d in dead) == (
        expected_dead
    )

    lines = [line for path in logs for line in path.read_text(encoding="utf-8").splitlines()]
    assert any("connectors started" in line for line in lines)
    for line in lines:
        assert not clear_number(line), line[:200]
        assert not known.found(line), "a scenario number reached the log"
        assert not any(secret in line for secret in secrets), "a secret reached the log"
