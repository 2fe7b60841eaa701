"""The simulator run as a whole: determinism, live release, fault rates, the CLI."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from simulators import SimulatorOptions, Simulators, start_simulators
from simulators.servers.auth import sign
from tests.kafka_helpers import eventually

CST = timezone(timedelta(hours=8))
ANCHOR = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


async def _citizen_token(http: aiohttp.ClientSession, cfg: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": cfg["client_id"],
        "client_secret": cfg["client_secret"],
    }
    async with http.post(f"{cfg['base_url']}/oauth/token", data=form) as resp:
        return str((await resp.json())["access_token"])


# A cursor at the start of the log (opaque to clients; built here to exercise 410).
_FIRST_CURSOR = base64.urlsafe_b64encode(b'{"p":0,"i":2000000000}').decode().rstrip("=")


def _hotline_params(cfg: dict[str, Any], start: datetime, page: int) -> dict[str, str]:
    params = {
        "start_time": start.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
        "end_time": (start + timedelta(hours=24)).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
        "page_no": str(page),
        "page_size": "100",
        "app_key": cfg["app_key"],
        "timestamp": str(int(time.time() * 1000)),
        "nonce": secrets.token_hex(8),
    }
    return params | {"sign": sign(cfg["app_secret"], "GET", "/hotline" + PATH, params.items())}


PATH = "/open/api/v1/workorders"


async def snapshot(sims: Simulators) -> list[bytes]:
    """Every byte the five channels serve for the whole scenario (port and cursors removed)."""
    cfg = sims.connector_configs
    out: list[bytes] = []
    start = sims.scenario.anchor - timedelta(days=8)
    async with aiohttp.ClientSession() as http:
        c = cfg["citizen_app"]
        headers = {"Authorization": "Bearer " + await _citizen_token(http, c)}
        cursor = ""
        while True:
            url = f"{c['base_url']}/api/v2/appeals?limit=200" + (
                f"&cursor={cursor}" if cursor else ""
            )
            async with http.get(url, headers=headers) as resp:
                body = await resp.json()
            out.append(orjson.dumps(body["data"]))  # the cursor carries its issue time
            cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        p = cfg["petition_window"]
        key = {"X-Api-Key": str(p["api_key"])}
        async with http.get(f"{p['base_url']}/exports", headers=key) as resp:
            listing = await resp.read()
        out.append(listing)
        for entry in orjson.loads(listing):
            async with http.get(
                f"{p['base_url']}/exports/{entry['batch_id']}.csv", headers=key
            ) as r:
                out.append(await r.read())
        h = cfg["hotline_12351"]
        for day in range(9):
            async with http.get(
                f"{h['base_url']}{PATH}", params=_hotline_params(h, start + timedelta(days=day), 1)
            ) as resp:
                out.append(await resp.read())
        pv = cfg["provincial_petition"]
        auth = base64.b64encode(f"{pv['username']}:{pv['password']}".encode()).decode()
        for day in range(9):
            lo = (start + timedelta(days=day)).astimezone(CST)
            window = {
                "from": lo.strftime("%Y-%m-%dT%H:%M:%S"),
                "to": (lo + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            }
            async with http.get(
                f"{pv['base_url']}/xf/ws/petitions",
                params=window,
                headers={"Authorization": "Basic " + auth},
            ) as resp:
                out.append(await resp.read())
        lg = cfg["legal_stations"]
        token = {"Authorization": "Token " + str(lg["token"])}
        async with http.get(f"{lg['registry_url']}/stations", headers=token) as resp:
            registry = await resp.read()
        out.append(registry)
        for station in orjson.loads(registry):
            async with http.get(station["base_url"] + "/cases?limit=3", headers=token) as resp:
                out.append(await resp.read())
    return [chunk.replace(sims.base_url.encode(), b"BASE") for chunk in out]


async def test_same_seed_serves_byte_identical_data_and_another_seed_does_not() -> None:
    runs = []
    for seed in (9, 9, 10):
        options = SimulatorOptions(
            seed=seed, incidents=60, stations=30, anchor=ANCHOR, fault_rate=0
        )
        async with start_simulators(options) as sims:
            sims.release_all()
            runs.append(await snapshot(sims))
    assert runs[0] == runs[1]
    assert sum(len(chunk) for chunk in runs[0]) > 50_000
    assert runs[0] != runs[2]


async def test_live_part_is_released_over_time_not_at_once() -> None:
    options = SimulatorOptions(seed=12, incidents=80, live_fraction=0.5, speed=600, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        cfg = sims.connector_configs["citizen_app"]
        headers = {"Authorization": "Bearer " + await _citizen_token(http, cfg)}
        total = sum(1 for v in sims.scenario.versions if v.channel == "citizen_app")

        async def visible() -> int:
            url = f"{cfg['base_url']}/api/v2/appeals?limit=200"
            async with http.get(url, headers=headers) as resp:
                return len((await resp.json())["data"])

        at_start = await visible()
        assert 0 < at_start < total  # the backlog is there, the live part is not yet

        async def everything_released() -> bool:
            return await visible() == total

        await eventually(everything_released, timeout_s=20)
    live = [v for v in sims.scenario.versions if v.at >= sims.scenario.anchor]
    assert live
    assert max(v.at for v in live) <= sims.scenario.live_end


async def test_faults_occur_at_about_the_set_rate() -> None:
    rate = 0.25
    options = SimulatorOptions(seed=13, incidents=30, fault_rate=rate)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        cfg = sims.connector_configs
        for _ in range(300):
            h = cfg["hotline_12351"]
            async with http.get(
                f"{h['base_url']}{PATH}", params=_hotline_params(h, sims.scenario.anchor, 1)
            ) as resp:
                await resp.read()
        p = cfg["petition_window"]
        for _ in range(300):
            try:
                async with http.get(
                    f"{p['base_url']}/exports", headers={"X-Api-Key": str(p["api_key"])}
                ) as resp:
                    await resp.read()
            except aiohttp.ClientError:
                pass  # a dropped connection is one of the faults
        c = cfg["citizen_app"]
        token = await _citizen_token(http, c)
        statuses: Counter[int] = Counter()
        for i in range(300):
            url = f"{c['base_url']}/api/v2/appeals?limit=5"
            if i % 2:
                url += f"&cursor={_FIRST_CURSOR}"
            try:
                async with http.get(url, headers={"Authorization": "Bearer " + token}) as resp:
                    statuses[resp.status] += 1
                    if resp.status == 401:
                        token = await _citizen_token(http, c)
                    if resp.status == 429:
                        assert resp.headers["Retry-After"] == "1"
            except aiohttp.ClientError:
                statuses[0] += 1
        pv = cfg["provincial_petition"]
        auth = base64.b64encode(f"{pv['username']}:{pv['password']}".encode()).decode()
        window = {"from": "2026-01-01T00:00:00", "to": "2026-01-01T01:00:00"}
        for _ in range(300):
            try:
                async with http.get(
                    f"{pv['base_url']}/xf/ws/petitions",
                    params=window,
                    headers={"Authorization": "Basic " + auth},
                ) as resp:
                    statuses[resp.status + 1000] += 1
            except aiohttp.ClientError:
                statuses[-1] += 1
        counts = sims.fault_counts()
        requests = sims.request_counts()
        stations = [s.station_id for s in sims.scenario.stations]
        down = [sims.station_down_mode(s) for s in stations]
    for channel in ("hotline_12351", "petition_window", "citizen_app", "provincial_petition"):
        faults = sum(n for k, n in counts.items() if k.startswith(channel + "."))
        assert abs(faults / requests[channel] - rate) < 0.07, (channel, faults)
    assert {k.split(".", 1)[1] for k in counts if k.startswith("hotline_12351.")} == {
        "code_42901",
        "code_50000",
        "page_shift",
    }
    citizen_kinds = {k.split(".", 1)[1] for k in counts if k.startswith("citizen_app.")}
    assert citizen_kinds == {"http_429", "http_5xx", "drop", "token_expired", "cursor_expired"}
    assert {429, 401, 410} <= set(statuses)
    assert statuses[0] >= 1  # aiohttp retries a drop on a reused connection once by itself
    assert abs(sum(m is not None for m in down) / len(stations) - rate) < 0.08
    assert {m for m in down if m is not None} == {"refuse", "hang", "http_503"}


async def test_fault_rate_zero_injects_nothing_and_can_be_changed_while_running() -> None:
    options = SimulatorOptions(seed=14, incidents=20, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        p = sims.connector_configs["petition_window"]

        async def list_many() -> None:
            for _ in range(100):
                try:
                    async with http.get(
                        f"{p['base_url']}/exports", headers={"X-Api-Key": str(p["api_key"])}
                    ) as resp:
                        await resp.read()
                except aiohttp.ClientError:
                    pass

        await list_many()
        assert sims.fault_counts() == {}
        sims.set_fault_rate(0.5)
        await list_many()
        assert sum(sims.fault_counts().values()) > 20


async def test_cli_writes_configs_prints_urls_and_stops_on_sigint(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    env = dict(os.environ)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unionhub",
        "simulate",
        "--seed",
        "3",
        "--port",
        "0",
        "--out",
        str(out),
        "--incidents",
        "20",
        "--fault-rate",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "ready; Ctrl-C stops":
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line, (lines, await process.stderr.read() if process.stderr else b"")
        lines.append(line.decode().rstrip("\n"))
    base_url = lines[0].split()[2]
    configs = {p.stem: yaml.safe_load(p.read_text("utf-8")) for p in out.glob("*.yaml")}
    sinks = {k: configs.pop(k) for k in list(configs) if k.startswith("replies-")}
    assert sinks == {  # one reply sink per channel that takes replies, naming its source
        f"replies-{ch}": {
            "name": f"{ch}-sim-replies",
            "type": "sink",
            "channel": ch,
            "connector": f"{ch}-sim",
        }
        for ch in ("citizen_app", "hotline_12351")
    }
    assert set(configs) == {
        "citizen_app",
        "petition_window",
        "hotline_12351",
        "provincial_petition",
        "legal_stations",
    }
    for channel, config in configs.items():
        assert config["channel"] == channel
        assert config["name"]
        url = config.get("base_url") or config["registry_url"]
        assert url.startswith(base_url)
        assert any(url in line for line in lines)
    assert {"client_id", "client_secret", "page_size", "poll_interval_s"} <= set(
        configs["citizen_app"]
    )
    assert {"registry_url", "token", "registry_refresh_s", "max_concurrency"} <= set(
        configs["legal_stations"]
    )
    assert any(configs["citizen_app"]["client_secret"] in line for line in lines)
    async with aiohttp.ClientSession() as http:
        c = configs["citizen_app"]
        assert await _citizen_token(http, c)
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    expected = orjson.loads((out / "expected.json").read_bytes())
    assert expected["seed"] == 3
    assert expected["expected_versions"]
