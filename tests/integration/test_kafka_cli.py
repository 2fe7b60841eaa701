"""``unionhub kafka up|status|down`` as an admin runs them, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _unionhub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unionhub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def _env(tmp_path: Path, port: int, path: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        UNIONHUB_KAFKA_BOOTSTRAP=f"127.0.0.1:{port}",
        UNIONHUB_STATE_DIR=str(tmp_path / "state"),
        UNIONHUB_KAFKA_HEAP="512m",
        UNIONHUB_LOG_FORMAT="json",
    )
    if path is not None:
        env["PATH"] = path
    return env


def test_up_without_java_fails_with_one_line_naming_java(tmp_path: Path) -> None:
    no_java = tmp_path / "bin"
    no_java.mkdir()
    result = _unionhub("kafka", "up", env=_env(tmp_path, 19492, path=str(no_java)))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Java is not on PATH" in lines[0]


def test_up_twice_then_status_then_down(tmp_path: Path) -> None:
    env = _env(tmp_path, 19392)
    first = _unionhub("kafka", "up", env=env)
    try:
        assert first.returncode == 0, first.stderr
        assert "started" in first.stdout
        second = _unionhub("kafka", "up", env=env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        status = _unionhub("kafka", "status", env=env)
        assert status.returncode == 0
        assert "answering" in status.stdout
    finally:
        down = _unionhub("kafka", "down", env=env)
    assert down.returncode == 0
    assert "stopped" in down.stdout
    after = _unionhub("kafka", "status", env=env)
    assert after.returncode == 3
    assert "not answering" in after.stdout
    again = _unionhub("kafka", "down", env=env)
    assert "was not running" in again.stdout
