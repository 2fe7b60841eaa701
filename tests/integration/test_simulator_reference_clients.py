"""A minimal correct client per channel sees exactly the scenario's expected versions.

The clients below speak each contract of ``channels.md`` from scratch (no
connector code): they retry what the spec says is transient, dedupe what the
spec says may repeat, and label versions as ``dispatch.md`` says. With faults
off they must land ``expected_versions()`` exactly, and the malformed records
as ``expected_dead_letters()``; with faults on, the same set after retries.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from defusedxml import ElementTree
from yarl import URL

from simulators import SimulatorOptions, Simulators, start_simulators
from simulators.scenario.model import ExpectedDeadLetter, ExpectedVersion
from simulators.servers.auth import sign

CST = timezone(timedelta(hours=8))
NS = "{http://xf.gd.gov.cn/schema/petition/1.0}"
HEADER = [
    "登记编号", "登记时间", "来访人姓名", "联系电话", "身份证号", "单位名称",
    "单位地址", "所属区", "诉求类别", "诉求内容", "来访人数", "接待人",
]  # fmt: skip
TRANSIENT = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass
class Landed:
    """What a reference client landed: versions (with how often) and dead letters."""

    versions: dict[ExpectedVersion, int] = field(default_factory=dict)
    dead: set[ExpectedDeadLetter] = field(default_factory=set)
    retries: int = 0

    def land(self, channel: str, external_id: str, version: str) -> None:
        key = ExpectedVersion(channel, external_id, version)
        self.versions[key] = self.versions.get(key, 0) + 1

    def dead_letter(self, channel: str, external_id: str | None, kind: str, source: str) -> None:
        self.dead.add(ExpectedDeadLetter(channel, external_id, kind, source))


async def _with_retries(landed: Landed, attempt: Any, tries: int = 60) -> Any:
    """Call ``attempt()`` until it returns non-None; transient errors are retried."""
    for _ in range(tries):
        try:
            result = await attempt()
        except TRANSIENT:
            result = None
        if result is not None:
            return result
        landed.retries += 1
    raise AssertionError("gave up after retries")


# ----------------------------------------------------------------- citizen_app
async def read_citizen_app(session: aiohttp.ClientSession, cfg: dict[str, Any]) -> Landed:
    landed = Landed()
    base = str(cfg["base_url"])
    token: list[str] = []

    async def new_token() -> str | None:
        form = {
            "grant_type": "client_credentials",
            "client_id": cfg["client_id"],
            "client_secret": cfg["client_secret"],
        }
        async with session.post(base + "/oauth/token", data=form) as resp:
            if resp.status != 200:
                return None
            return str((await resp.json())["access_token"])

    token.append(await _with_retries(landed, new_token))
    params: dict[str, str] = {"limit": str(cfg["page_size"])}
    seen: set[tuple[str, int]] = set()
    last_updated: str | None = None
    while True:

        async def page(p: dict[str, str] = params) -> dict[str, Any] | None:
            headers = {"Authorization": "Bearer " + token[-1]}
            async with session.get(base + "/api/v2/appeals", params=p, headers=headers) as resp:
                if resp.status == 401:
                    token.append(await _with_retries(landed, new_token))
                    return None
                if resp.status == 410:
                    return {"expired": True}
                if resp.status == 429:
                    assert resp.headers["Retry-After"].isdigit()
                    return None
                if resp.status >= 500:
                    return None
                assert resp.status == 200, resp.status
                body: dict[str, Any] = await resp.json()
                return body

        body = await _with_retries(landed, page)
        if body.get("expired"):
            assert last_updated is not None
            params = {"limit": params["limit"], "since": last_updated}
            continue
        for appeal in body["data"]:
            if not isinstance(appeal.get("version"), int):
                landed.dead_letter("citizen_app", appeal["appeal_id"], "invalid_version", "feed")
                continue
            key = (appeal["appeal_id"], appeal["version"])
            if key not in seen:  # a `since` resume repeats some appeals
                seen.add(key)
                landed.land("citizen_app", appeal["appeal_id"], str(appeal["version"]))
            last_updated = appeal["updated_at"]
        params = {"limit": params["limit"], "cursor": body["next_cursor"]}
        if not body["has_more"]:
            return landed


# ------------------------------------------------------------- petition_window
def parse_petition_csv(data: bytes, batch_label: str, landed: Landed, seen: dict[str, str]) -> int:
    """Split a GBK export into rows at the byte level, so one bad row stays one dead letter."""
    rows = 0
    for raw in _csv_records(data)[1:]:
        rows += 1
        reg_no = raw.split(b",", 1)[0].decode("ascii", "replace")
        batch_id = batch_label.partition("#")[0]
        try:
            text = raw.decode("gbk")
        except UnicodeDecodeError:
            landed.dead_letter("petition_window", reg_no, "csv_bad_encoding", batch_id)
            continue
        cells = next(csv.reader(io.StringIO(text)))
        if len(cells) != len(HEADER):
            landed.dead_letter("petition_window", reg_no, "csv_wrong_cell_count", batch_id)
            continue
        try:
            datetime.strptime(cells[1], "%Y/%m/%d %H:%M").replace(tzinfo=CST)
        except ValueError:
            landed.dead_letter("petition_window", reg_no, "csv_impossible_date", batch_id)
            continue
        content = "\x1f".join(cells)
        if seen.get(reg_no) != content:  # an unchanged row of a later revision is no version
            seen[reg_no] = content
            landed.land("petition_window", reg_no, batch_label)
    return rows


def _csv_records(data: bytes) -> list[bytes]:
    """Records of RFC 4180 bytes: CRLF ends a record only outside quotes (GBK-safe: 0x22,
    0x0D and 0x0A never occur inside a GBK double-byte character)."""
    records, start, quoted, i = [], 0, False, 0
    while i < len(data):
        b = data[i]
        if b == 0x22:
            quoted = not quoted
        elif not quoted and data[i : i + 2] == b"\r\n":
            records.append(data[start:i])
            start = i + 2
            i += 1
        elif b >= 0x81 and i + 1 < len(data) and data[i + 1] >= 0x40:
            i += 1  # skip the trail byte of a double-byte character
        i += 1
    return records


async def read_petition_window(
    session: aiohttp.ClientSession, cfg: dict[str, Any], seen: dict[str, str] | None = None
) -> Landed:
    """Every published batch; ``seen`` (row contents by 登记编号) carries over between reads."""
    landed = Landed()
    base, headers = str(cfg["base_url"]), {"X-Api-Key": str(cfg["api_key"])}

    async def listing() -> list[dict[str, Any]] | None:
        async with session.get(base + "/exports", headers=headers) as resp:
            if resp.status >= 500:
                return None
            assert resp.status == 200
            body: list[dict[str, Any]] = await resp.json()
            return body

    seen = {} if seen is None else seen
    for entry in await _with_retries(landed, listing):

        async def download(entry: dict[str, Any] = entry) -> bytes | None:
            url = f"{base}/exports/{entry['batch_id']}.csv"
            async with session.get(url, headers=headers) as resp:
                if resp.status >= 500:
                    return None
                assert resp.headers["Content-Type"] == "text/csv; charset=GBK"
                data = await resp.read()
            return data if hashlib.sha256(data).hexdigest() == entry["sha256"] else None

        data = await _with_retries(landed, download)
        label = f"{entry['batch_id']}#{entry['revision']}"
        assert parse_petition_csv(data, label, landed, seen) == entry["rows"]
    return landed


# --------------------------------------------------------------- hotline_12351
async def hotline_call(
    session: aiohttp.ClientSession, cfg: dict[str, Any], params: dict[str, str]
) -> dict[str, Any]:
    base = str(cfg["base_url"])
    path = URL(base).path + "/open/api/v1/workorders"
    full = dict(params)
    full |= {
        "app_key": str(cfg["app_key"]),
        "timestamp": str(int(time.time() * 1000)),
        "nonce": secrets.token_hex(8),
    }
    full["sign"] = sign(str(cfg["app_secret"]), "GET", path, full.items())
    async with session.get(base + "/open/api/v1/workorders", params=full) as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def read_hotline(
    session: aiohttp.ClientSession, cfg: dict[str, Any], start: datetime, end: datetime
) -> Landed:
    landed = Landed()
    seen: set[tuple[str, str]] = set()
    window = start
    while window < end:
        window_end = min(window + timedelta(hours=24), end)
        page_no = 1
        while True:
            params = {
                "start_time": window.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
                "end_time": window_end.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
                "page_no": str(page_no),
                "page_size": "100",
            }

            async def call(p: dict[str, str] = params) -> dict[str, Any] | None:
                body = await hotline_call(session, cfg, p)
                if body["code"] in (42901, 50000):
                    return None
                assert body["code"] == 0, body
                data: dict[str, Any] = body["data"]
                return data

            data = await _with_retries(landed, call)
            for order in data["list"]:
                key = (order["order_no"], order["update_time"])
                if key not in seen:  # offset paging may serve an order twice
                    seen.add(key)
                    landed.land("hotline_12351", *key)
            if page_no * 100 >= data["total"]:
                break
            page_no += 1
        window = window_end
    return landed


# --------------------------------------------------------- provincial_petition
async def read_provincial(
    session: aiohttp.ClientSession, cfg: dict[str, Any], start: datetime, end: datetime
) -> Landed:
    landed = Landed()
    token = base64.b64encode(f"{cfg['username']}:{cfg['password']}".encode()).decode()
    auth_headers = {"Authorization": "Basic " + token}
    seen: set[tuple[str, str]] = set()
    pending = []
    t = start
    while t < end:
        pending.append((t, min(t + timedelta(hours=24), end)))
        t += timedelta(hours=24)
    while pending:
        lo, hi = pending.pop()
        params = {
            "from": lo.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S"),
            "to": hi.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S"),
        }

        async def call(p: dict[str, str] = params) -> bytes | None:
            async with session.get(
                str(cfg["base_url"]) + "/xf/ws/petitions", params=p, headers=auth_headers
            ) as resp:
                if resp.status >= 500:
                    return None
                assert resp.status == 200
                return await resp.read()

        root = ElementTree.fromstring(await _with_retries(landed, call))
        if root.tag == NS + "Error":
            assert root.get("code") == "TOO_MANY"
            mid = lo + (hi - lo) / 2
            pending += [(lo, mid), (mid, hi)]
            continue
        assert root.tag == NS + "QueryResult"
        for petition in root.findall(NS + "Petition"):
            xfjbh = petition.findtext(NS + "XFJBH") or ""
            bbh = petition.findtext(NS + "BBH") or ""
            if not bbh.isdigit():
                landed.dead_letter("provincial_petition", xfjbh, "invalid_version", "xml")
                continue
            if (xfjbh, bbh) not in seen:
                seen.add((xfjbh, bbh))
                landed.land("provincial_petition", xfjbh, bbh)
    return landed


# -------------------------------------------------------------- legal_stations
async def read_legal(session: aiohttp.ClientSession, cfg: dict[str, Any]) -> Landed:
    landed = Landed()
    headers = {"Authorization": "Token " + str(cfg["token"])}
    timeout = aiohttp.ClientTimeout(total=0.5)

    async def registry() -> list[dict[str, Any]] | None:
        async with session.get(str(cfg["registry_url"]) + "/stations", headers=headers) as r:
            if r.status >= 500:
                return None
            body: list[dict[str, Any]] = await r.json()
            return body

    seen: set[tuple[str, str]] = set()
    for station in await _with_retries(landed, registry):
        url: str | None = station["base_url"] + "/cases?" + urlencode({"limit": 7})
        while url is not None:

            async def call(u: str = url) -> dict[str, Any] | None:
                async with session.get(u, headers=headers, timeout=timeout) as r:
                    if r.status == 503:
                        return None
                    assert r.status == 200
                    assert r.headers["ETag"]
                    body: dict[str, Any] = await r.json()
                    return body

            body = await _with_retries(landed, call, tries=400)
            for case in body["cases"]:
                try:
                    datetime.fromisoformat(case["updated_at"])
                except ValueError:
                    landed.dead_letter(
                        "legal_stations",
                        case["case_id"],
                        "invalid_timestamp",
                        station["station_id"],
                    )
                    continue
                key = (case["case_id"], case["updated_at"])
                if key not in seen:
                    seen.add(key)
                    landed.land("legal_stations", *key)
            url = body["next"]
    return landed


async def read_everything(sims: Simulators) -> Landed:
    """Every channel through its reference client, merged."""
    cfg = sims.connector_configs
    scenario = sims.scenario
    start = scenario.anchor - timedelta(days=9)
    end = scenario.live_end + timedelta(days=1)
    async with aiohttp.ClientSession() as session:
        parts = [
            await read_citizen_app(session, cfg["citizen_app"]),
            await read_petition_window(session, cfg["petition_window"]),
            await read_hotline(session, cfg["hotline_12351"], start, end),
            await read_provincial(session, cfg["provincial_petition"], start, end),
            await read_legal(session, cfg["legal_stations"]),
        ]
    merged = Landed()
    for part in parts:
        merged.versions |= part.versions
        merged.dead |= part.dead
        merged.retries += part.retries
    return merged


@pytest.fixture(scope="module")
async def released() -> AsyncIterator[Simulators]:
    """Simulators with faults off and every version released."""
    async with start_simulators(SimulatorOptions(seed=7, incidents=150, fault_rate=0)) as sims:
        sims.release_all()
        yield sims


@pytest.fixture(scope="module")
async def landed(released: Simulators) -> Landed:
    """What the reference clients landed from ``released``."""
    return await read_everything(released)


def _by_channel(items: set[ExpectedVersion], channel: str) -> set[ExpectedVersion]:
    return {v for v in items if v.channel == channel}


@pytest.mark.parametrize(
    "channel",
    [
        "citizen_app",
        "petition_window",
        "hotline_12351",
        "provincial_petition",
        "legal_stations",
    ],
)
async def test_reference_client_sees_each_expected_version_once(
    released: Simulators, landed: Landed, channel: str
) -> None:
    expected = released.scenario.expected_versions()
    assert len(expected) == len(set(expected))
    want = _by_channel(set(expected), channel)
    got = _by_channel(set(landed.versions), channel)
    assert want, f"the scenario has no {channel} records"
    assert got == want
    assert all(count == 1 for count in landed.versions.values())
    assert landed.retries == 0


async def test_malformed_records_are_the_expected_dead_letters(
    released: Simulators, landed: Landed
) -> None:
    expected = set(released.scenario.expected_dead_letters())
    assert {d.kind for d in expected} >= {
        "csv_bad_encoding",
        "csv_wrong_cell_count",
        "csv_impossible_date",
        "invalid_version",
        "invalid_timestamp",
    }
    assert {(d.channel, d.external_id, d.kind) for d in landed.dead} == {
        (d.channel, d.external_id, d.kind) for d in expected
    }


async def test_with_faults_on_a_retrying_client_still_sees_everything_once() -> None:
    options = SimulatorOptions(
        seed=11, incidents=60, stations=40, fault_rate=0.15, station_outage_s=0.05
    )
    async with start_simulators(options) as sims:
        sims.release_all()
        landed = await read_everything(sims)
        counts = sims.fault_counts()
    assert set(landed.versions) == set(sims.scenario.expected_versions())
    assert landed.retries > 0
    kinds = {k.split(".", 1)[1] for k in counts}
    assert {"http_429", "drop", "torn", "code_42901", "code_50000"} & kinds


async def test_a_client_reading_before_and_after_the_live_part_lands_possible_versions() -> None:
    # Six hours of backlog: batches published before the start, corrected after it.
    options = SimulatorOptions(seed=23, incidents=300, stations=30, fault_rate=0, backlog_days=0.25)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        cfg = sims.connector_configs["petition_window"]
        seen: dict[str, str] = {}
        before = await read_petition_window(http, cfg, seen)
        sims.release_all()
        after = await read_petition_window(http, cfg, seen)
    landed = set(before.versions) | set(after.versions)
    possible = set(sims.scenario.possible_versions())
    settled = {
        (e.external_id, e.version)
        for e in sims.scenario.expected_versions()
        if e.channel == "petition_window"
    }
    assert landed <= possible
    assert {v.external_id for v in landed} == {external_id for external_id, _ in settled}
    # A row unchanged by a correction keeps the label of the revision first read ...
    kept = {(v.external_id, v.version) for v in landed} - settled
    assert kept
    assert all(version.endswith("#1") for _, version in kept)
    # ... and a corrected row is a new version labelled with the new revision.
    read_first = {v.external_id for v in before.versions}
    assert any(v.version.endswith("#2") and v.external_id in read_first for v in after.versions)
