"""``unionhub connectors ...`` and ``unionhub status`` against the real broker."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from core.errors import UnionhubError
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.conftest import REPO_ROOT
from unionhub.admin import AdminError, NotPausedError
from unionhub.cli import build_parser
from unionhub.configstore import UnknownConnectorError

pytestmark = pytest.mark.integration


@pytest.fixture
async def sims() -> AsyncIterator[Simulators]:
    """Simulators without faults, everything released."""
    options = SimulatorOptions(seed=31, incidents=5, speed=1000, fault_rate=0.0, stations=11)
    async with start_simulators(options) as running:
        running.release_all()
        yield running


async def cli(settings: Settings, *argv: str) -> int:
    """Run one ``unionhub`` command's handler (as ``main`` does, minus logging setup)."""
    args = build_parser().parse_args(list(argv))
    code: int = await asyncio.to_thread(args.handler, settings, args)
    return code


def json_out(text: str) -> object:
    """The JSON document a command printed (after any log lines the default logger wrote)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return orjson.loads("\n".join(lines[start:]))


def write(path: Path, config: dict[str, object]) -> Path:
    """``config`` as a YAML file."""
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


async def test_a_reply_sink_is_added_listed_paused_and_shown_like_a_connector(
    settings: Settings,
    topics: TopicCatalog,
    sims: Simulators,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = {**sims.connector_configs["hotline_12351"], "replies": False}
    sink = sims.sink_configs["hotline_12351"]
    sink_path = write(tmp_path / "replies-hotline_12351.yaml", sink)
    assert await cli(settings, "connectors", "add", str(write(tmp_path / "h.yaml", source))) == 0
    with pytest.raises(AdminError) as refused:  # no reply credentials: no sink, and it says so
        await cli(settings, "connectors", "add", str(sink_path))
    assert refused.value.field == "connector"
    assert "no reply credentials" in refused.value.reason
    source["replies"] = True
    h_path = write(tmp_path / "h.yaml", source)
    assert await cli(settings, "connectors", "add", "--replace", str(h_path)) == 0
    assert await cli(settings, "connectors", "add", str(sink_path)) == 0
    capsys.readouterr()
    assert await cli(settings, "connectors", "list") == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows == {"hotline_12351-sim": "source", "hotline_12351-sim-replies": "sink"}
    assert await cli(settings, "connectors", "pause", str(sink["name"])) == 0
    assert await cli(settings, "connectors", "show", str(sink["name"])) == 0
    shown: Any = json_out(capsys.readouterr().out)
    assert (shown["target_state"], shown["status"]["type"]) == ("PAUSED", "sink")
    assert shown["status"]["source_connector"] == "hotline_12351-sim"


async def test_every_connectors_verb(
    settings: Settings,
    topics: TopicCatalog,
    sims: Simulators,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = dict(sims.connector_configs["hotline_12351"])
    secret = str(config["app_secret"])
    printed: list[str] = []

    def out() -> str:
        text = capsys.readouterr().out
        printed.append(text)
        return text

    name = str(config["name"])
    path = write(tmp_path / "hotline.yaml", config)

    assert await cli(settings, "connectors", "validate", str(path)) == 0
    assert "credentials accepted" in out()

    assert await cli(settings, "connectors", "add", str(path)) == 0
    assert f"created {name}" in out().splitlines()
    with pytest.raises(AdminError) as refused:
        await cli(settings, "connectors", "add", str(path))
    assert refused.value.field == "name"
    assert await cli(settings, "connectors", "add", "--replace", str(path)) == 0
    assert f"replaced {name}" in out().splitlines()

    assert await cli(settings, "connectors", "list") == 0
    listing = out()
    assert name in listing
    assert "RUNNING" in listing

    assert await cli(settings, "connectors", "show", name) == 0
    shown: Any = json_out(out())
    assert shown["config"]["app_secret"] == "********"
    assert shown["config"]["app_key"] == config["app_key"]

    with pytest.raises(NotPausedError):
        await cli(settings, "connectors", "offsets", name, "--reset")
    assert await cli(settings, "connectors", "pause", name) == 0
    assert await cli(settings, "connectors", "show", name) == 0
    paused: Any = json_out(out())
    assert paused["target_state"] == "PAUSED"

    to = orjson.dumps({name: {"watermark": "2026-11-01 08:00:00"}}).decode()
    assert await cli(settings, "connectors", "offsets", name, "--reset", "--to", to) == 0
    out()
    assert await cli(settings, "connectors", "offsets", name) == 0
    shown_offsets = json_out(out())
    assert shown_offsets == {
        "offsets": [{"key": name, "checkpoint": {"watermark": "2026-11-01 08:00:00"}}]
    }
    assert await cli(settings, "connectors", "offsets", name, "--reset") == 0
    assert json_out(out()) == {"offsets": []}

    assert await cli(settings, "connectors", "resume", name) == 0
    assert await cli(settings, "connectors", "restart", name) == 0
    assert await cli(settings, "connectors", "remove", name) == 0
    out()
    with pytest.raises(UnknownConnectorError):
        await cli(settings, "connectors", "show", name)
    with pytest.raises(UnknownConnectorError):
        await cli(settings, "connectors", "pause", name)
    assert await cli(settings, "connectors", "list") == 0
    assert "no connectors" in out().splitlines()

    assert await cli(settings, "status") == 0
    assert "QUEUES (records kept)" in out().splitlines()
    assert secret not in "".join(printed)


async def test_validate_and_add_refusals_name_the_field(
    settings: Settings,
    topics: TopicCatalog,
    sims: Simulators,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = dict(sims.connector_configs["petition_window"])
    bad = write(tmp_path / "bad.yaml", config | {"poll_interval_s": -1})
    assert await cli(settings, "connectors", "validate", str(bad)) == 1
    assert capsys.readouterr().out.startswith("poll_interval_s: ")

    wrong = write(tmp_path / "wrong.yaml", config | {"api_key": "wrong-key-0042"})
    assert await cli(settings, "connectors", "validate", str(wrong)) == 1
    out = capsys.readouterr().out
    assert out.startswith("credentials: ")
    assert "wrong-key-0042" not in out

    unknown = write(tmp_path / "unknown.yaml", config | {"channel": "fax"})
    assert await cli(settings, "connectors", "validate", str(unknown)) == 1
    assert capsys.readouterr().out.startswith("channel: unknown channel")
    with pytest.raises(UnionhubError) as refused:
        await cli(settings, "connectors", "add", str(unknown))
    assert "channel" in str(refused.value)
    with pytest.raises(AdminError) as refused_bad:
        await cli(settings, "connectors", "add", str(bad))
    assert refused_bad.value.field == "poll_interval_s"


async def test_cli_subprocess_prints_refusals_and_status_json(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "UNIONHUB_NAMESPACE": settings.namespace,
        "UNIONHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "UNIONHUB_LOG_FORMAT": "json",
    }
    bad = write(tmp_path / "bad.yaml", {"name": "x1", "channel": "citizen_app"})

    async def run(*argv: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "unionhub",
            *argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, _, err = await run("connectors", "add", str(bad))
    assert code == 1
    assert "base_url" in err
    code, out, _ = await run("status", "--json")
    assert code == 0
    overview = orjson.loads(out)
    assert overview["connectors"] == []
    assert set(overview["queues"]) >= {"nanshan", "futian", "triage"}
