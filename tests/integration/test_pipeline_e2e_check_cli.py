"""``unionhub check``: the checker CLI on a real namespace (a process, as an operator runs it)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import orjson
import pytest

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from tests.conftest import REPO_ROOT
from tests.integration.router_stage_main import produce

pytestmark = pytest.mark.integration

REF = {"channel": "citizen_app", "external_id": "MY1", "version": "1"}


def _expected(path: Path) -> Path:
    version = dict(REF, case_id="c1", events=["new_case"], events_live=["new_case"])
    doc = {
        "expected_versions": [REF],
        "possible_versions": [REF],
        "versions": [version],
        "cases": [{"case_id": "c1", "reports": [["citizen_app", "MY1"]], "placements": ["futian"]}],
        "alerts": [],
        "dead_letters": [],
    }
    path.write_bytes(orjson.dumps(doc))
    return path


def _event(event_id: str) -> bytes:
    return orjson.dumps(
        {
            "schema": "unionhub.dispatch/1",
            "event_id": event_id,
            "event_type": "new_case",
            "case_id": "case-1",
            "district": "futian",
            "triage_reason": None,
            "report": REF,
            "summary": "拖欠工资",
        }
    )


async def _run_check(settings: Settings, expected: Path) -> tuple[int, str]:
    env = dict(
        os.environ,
        UNIONHUB_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        UNIONHUB_NAMESPACE=settings.namespace,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "unionhub", "check", "--expected", str(expected),
        cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_check_prints_the_figures_and_exits_non_zero_unless_ok(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    expected = _expected(tmp_path / "expected.json")
    code, out = await _run_check(settings, expected)
    assert code == 1
    assert "lost: citizen_app/MY1/1" in out

    await produce(settings.kafka_bootstrap, [(topics.dispatch("futian"), b"case-1", _event("e1"))])
    code, out = await _run_check(settings, expected)
    assert code == 0, out
    assert "verdict" in out
    assert "OK" in out

    await produce(settings.kafka_bootstrap, [(topics.dispatch("futian"), b"case-1", _event("e2"))])
    code, out = await _run_check(settings, expected)
    assert code == 1
    assert "dispatched twice: citizen_app/MY1/1" in out


async def test_check_fails_clearly_on_a_bad_expected_file_or_a_namespace_without_topics(
    settings: Settings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    bad = tmp_path / "expected.json"
    bad.write_text("{")
    code, out = await _run_check(settings, bad)
    assert code == 1
    assert "is not JSON" in out
    code, out = await _run_check(settings, _expected(tmp_path / "good.json"))
    assert code == 1
    assert "missing topics" in out
