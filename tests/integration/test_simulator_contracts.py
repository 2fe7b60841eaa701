"""Each simulator serves its channels.md contract: auth, paging, encodings, refusals.

Real HTTP on loopback against ``start_simulators``; no Kafka.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from defusedxml import ElementTree

from simulators import SimulatorOptions, Simulators, start_simulators
from simulators.servers.auth import NonceRegistry, TokenStore, sign

NS = "{http://xf.gd.gov.cn/schema/petition/1.0}"
CST = timezone(timedelta(hours=8))
SPEC_SIGN = "9b77d58af99d76b95c7bf84e26346321bc92ada4d35057a1d033be52ba736c04"
SPEC_PARAMS = {
    "app_key": "hub",
    "end_time": "2025-05-23 15:00:00",
    "nonce": "abcdefgh12345678",
    "page_no": "1",
    "page_size": "50",
    "start_time": "2025-05-23 14:00:00",
    "timestamp": "1748000000000",
}


@pytest.fixture(scope="module")
async def sims() -> AsyncIterator[Simulators]:
    """Faults off, the hotline keyed as in the spec's worked example."""
    options = SimulatorOptions(
        seed=5,
        incidents=150,
        fault_rate=0,
        credentials=(("hotline_app_key", "hub"), ("hotline_app_secret", "unionhub-test-secret")),
    )
    async with start_simulators(options) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())


# ----------------------------------------------------------------- hotline_12351
async def test_spec_signing_example_is_computed_exactly() -> None:
    assert sign("unionhub-test-secret", "GET", "/open/api/v1/workorders", SPEC_PARAMS.items()) == (
        SPEC_SIGN
    )


async def test_hotline_accepts_the_spec_example_signature_and_refuses_a_wrong_one(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    url = sims.base_url + "/open/api/v1/workorders?"
    # The example's signature is right; only its 2025 timestamp is past the window.
    async with http.get(url + _query(SPEC_PARAMS | {"sign": SPEC_SIGN})) as resp:
        assert resp.status == 200
        assert (await resp.json())["code"] == 40102
    tampered = SPEC_PARAMS | {"page_no": "2", "sign": SPEC_SIGN}
    async with http.get(url + _query(tampered)) as resp:
        assert (await resp.json())["code"] == 40101


def _signed(secret: str, path: str, params: dict[str, str]) -> dict[str, str]:
    full = params | {
        "app_key": "hub",
        "timestamp": str(int(time.time() * 1000)),
        "nonce": secrets.token_hex(8),
    }
    return full | {"sign": sign(secret, "GET", path, full.items())}


async def test_hotline_fresh_signature_succeeds_and_a_replayed_nonce_is_refused(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    path = "/hotline/open/api/v1/workorders"
    now = sims.scenario.anchor.astimezone(CST)
    params = _signed(
        "unionhub-test-secret",
        path,
        {
            "start_time": (now - timedelta(hours=20)).strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "page_no": "1",
            "page_size": "100",
        },
    )
    async with http.get(sims.base_url + path + "?" + _query(params)) as resp:
        body = await resp.json()
    assert body["code"] == 0
    assert body["data"]["total"] >= len(body["data"]["list"])
    async with http.get(sims.base_url + path + "?" + _query(params)) as resp:
        assert (await resp.json())["code"] == 40103
    wrong = _signed("not-the-secret", path, {"page_no": "1"})
    async with http.get(sims.base_url + path + "?" + _query(wrong)) as resp:
        assert (await resp.json())["code"] == 40101
    # The prefix is part of PATH: a signature over the bare path does not fit /hotline/...
    bare = _signed("unionhub-test-secret", "/open/api/v1/workorders", {"page_no": "1"})
    async with http.get(sims.base_url + path + "?" + _query(bare)) as resp:
        assert (await resp.json())["code"] == 40101


async def test_hotline_pages_are_ordered_by_update_time_and_order_no(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    sims.release_all()
    path = "/hotline/open/api/v1/workorders"
    start = sims.scenario.anchor.astimezone(CST) - timedelta(days=3)
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        params = _signed(
            "unionhub-test-secret",
            path,
            {
                "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                "end_time": (start + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S"),
                "page_no": str(page),
                "page_size": "3",
            },
        )
        async with http.get(sims.base_url + path + "?" + _query(params)) as resp:
            data = (await resp.json())["data"]
        rows += data["list"]
        if page * 3 >= data["total"]:
            break
        page += 1
    keys = [(r["update_time"], r["order_no"]) for r in rows]
    assert len(keys) == data["total"] > 3
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


# ----------------------------------------------------------------- citizen_app
async def _token(sims: Simulators, http: aiohttp.ClientSession) -> str:
    cfg = sims.connector_configs["citizen_app"]
    form = {
        "grant_type": "client_credentials",
        "client_id": str(cfg["client_id"]),
        "client_secret": str(cfg["client_secret"]),
    }
    async with http.post(f"{cfg['base_url']}/oauth/token", data=form) as resp:
        body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    return str(body["access_token"])


async def test_citizen_app_refuses_bad_client_and_unknown_token(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    base = str(sims.connector_configs["citizen_app"]["base_url"])
    form = {"grant_type": "client_credentials", "client_id": "unionhub", "client_secret": "x"}
    async with http.post(base + "/oauth/token", data=form) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "invalid_client"}
    async with http.get(base + "/api/v2/appeals", headers={"Authorization": "Bearer nope"}) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "invalid_token"}


async def test_citizen_app_since_lists_changes_from_that_time_and_refuses_a_raw_plus(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    sims.release_all()
    base = str(sims.connector_configs["citizen_app"]["base_url"])
    headers = {"Authorization": "Bearer " + await _token(sims, http)}
    async with http.get(base + "/api/v2/appeals?limit=200", headers=headers) as resp:
        first = (await resp.json())["data"]
    since = first[len(first) // 2]["updated_at"]  # e.g. 2026-11-25T10:00:00+08:00
    async with http.get(f"{base}/api/v2/appeals?since={since}", headers=headers) as resp:
        assert resp.status == 400  # the raw '+' arrived as a space
    async with http.get(
        f"{base}/api/v2/appeals?limit=200&since={quote(since)}", headers=headers
    ) as resp:
        body = await resp.json()
    assert body["data"]
    assert all(a["updated_at"] >= since for a in body["data"])
    assert body["data"][0]["updated_at"] == since
    async with http.get(f"{base}/api/v2/appeals?limit=201", headers=headers) as resp:
        assert resp.status == 400


async def test_citizen_app_cursor_is_a_checkpoint_even_when_nothing_is_new(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    sims.release_all()
    base = str(sims.connector_configs["citizen_app"]["base_url"])
    headers = {"Authorization": "Bearer " + await _token(sims, http)}
    cursor, total = None, 0
    while True:
        url = base + "/api/v2/appeals?limit=50" + (f"&cursor={cursor}" if cursor else "")
        async with http.get(url, headers=headers) as resp:
            body = await resp.json()
        total += len(body["data"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    async with http.get(f"{base}/api/v2/appeals?cursor={cursor}", headers=headers) as resp:
        again = await resp.json()
    assert again["data"] == []
    assert again["has_more"] is False
    assert again["next_cursor"]
    assert total == sum(1 for v in sims.scenario.versions if v.channel == "citizen_app")


# ------------------------------------------------------------- petition_window
async def test_petition_window_serves_gbk_csv_matching_the_listing(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    sims.release_all()
    cfg = sims.connector_configs["petition_window"]
    base = str(cfg["base_url"])
    async with http.get(base + "/exports", headers={"X-Api-Key": "wrong"}) as resp:
        assert resp.status == 403
    headers = {"X-Api-Key": str(cfg["api_key"])}
    async with http.get(base + "/exports", headers=headers) as resp:
        listing = await resp.json()
    assert [b["batch_id"] for b in listing] == sorted(b["batch_id"] for b in listing)
    hazards = {"comma": False, "quote": False, "newline": False}
    revised = 0
    for entry in listing:
        async with http.get(f"{base}/exports/{entry['batch_id']}.csv", headers=headers) as resp:
            assert resp.headers["Content-Type"] == "text/csv; charset=GBK"
            data = await resp.read()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert data.count(b"\r\n") >= entry["rows"] + 1
        revised += entry["revision"] > 1
        text = data.decode("gbk", errors="replace")
        for row in list(csv.reader(io.StringIO(text, newline="")))[1:]:
            cell = row[9] if len(row) > 9 else ""
            hazards["comma"] |= "," in cell
            hazards["quote"] |= '"' in cell
            hazards["newline"] |= "\n" in cell
    assert all(hazards.values()), hazards
    assert revised > 0
    assert data.split(b"\r\n", 1)[0].decode("gbk") == (
        "登记编号,登记时间,来访人姓名,联系电话,身份证号,单位名称,单位地址,所属区,诉求类别,诉求内容,来访人数,接待人"
    )


async def test_a_batch_torn_for_good_never_matches_its_listing(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    cfg = sims.connector_configs["petition_window"]
    headers = {"X-Api-Key": str(cfg["api_key"])}
    async with http.get(f"{cfg['base_url']}/exports", headers=headers) as resp:
        entry = (await resp.json())[0]
    url = f"{cfg['base_url']}/exports/{entry['batch_id']}.csv"
    sims.set_batch_torn(entry["batch_id"])
    digests = set()
    for _ in range(3):
        async with http.get(url, headers=headers) as resp:
            digests.add(hashlib.sha256(await resp.read()).hexdigest())
    sims.set_batch_torn(entry["batch_id"], torn=False)
    async with http.get(url, headers=headers) as resp:
        whole = hashlib.sha256(await resp.read()).hexdigest()
    assert entry["sha256"] not in digests
    assert whole == entry["sha256"]
    assert sims.fault_counts()["petition_window.torn_for_good"] == 3


async def test_petition_listing_after_repeats_revised_batches() -> None:
    options = SimulatorOptions(seed=21, incidents=200, fault_rate=0, live_fraction=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        cfg = sims.connector_configs["petition_window"]
        headers = {"X-Api-Key": str(cfg["api_key"])}
        async with http.get(f"{cfg['base_url']}/exports", headers=headers) as resp:
            listing = await resp.json()
        revised = [b for b in listing if b["revision"] > 1]
        assert revised
        first_revised = min(b["batch_id"] for b in revised)
        later = [b["batch_id"] for b in listing if b["batch_id"] > first_revised]
        async with http.get(
            f"{cfg['base_url']}/exports?after={later[-1]}", headers=headers
        ) as resp:
            after_last = await resp.json()
    # Batches at or before `after` show up only when revised after that batch was published.
    assert all(b["revision"] > 1 for b in after_last)


# ---------------------------------------------------------- provincial_petition
def _malformed(updated_at: str) -> bool:
    try:
        datetime.fromisoformat(updated_at)
    except ValueError:
        return True
    return False


def _local(t: datetime) -> str:
    return t.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S")


def _basic(cfg: dict[str, object]) -> dict[str, str]:
    raw = f"{cfg['username']}:{cfg['password']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def test_provincial_xml_is_namespaced_with_cdata_and_refuses_bad_credentials(
    sims: Simulators, http: aiohttp.ClientSession
) -> None:
    sims.release_all()
    cfg = sims.connector_configs["provincial_petition"]
    url = f"{cfg['base_url']}/xf/ws/petitions"
    end = sims.scenario.anchor.astimezone(CST)
    params = {"from": _local(end - timedelta(hours=24)), "to": _local(end)}
    bad = {"Authorization": "Basic " + base64.b64encode(b"unionhub:wrong").decode()}
    async with http.get(url, params=params, headers=bad) as resp:
        assert resp.status == 401
    found = 0
    for day in range(8):
        lo = end - timedelta(days=day + 1)
        window = {"from": _local(lo), "to": _local(lo + timedelta(hours=24))}
        async with http.get(url, params=window, headers=_basic(cfg)) as resp:
            assert resp.content_type == "application/xml"
            raw = await resp.read()
        root = ElementTree.fromstring(raw)
        assert root.tag == NS + "QueryResult"
        petitions = root.findall(NS + "Petition")
        assert int(root.get("count") or -1) == len(petitions)
        for p in petitions:
            assert window["from"] <= (p.findtext(NS + "DJSJ") or "") < window["to"]
            assert p.find(NS + "XFR/" + NS + "XM") is not None
        found += len(petitions)
        if petitions:
            assert b"<![CDATA[" in raw
    assert found > 0


async def test_provincial_answers_too_many_above_500_and_serves_narrower_windows() -> None:
    options = SimulatorOptions(
        seed=3, incidents=2500, stations=20, fault_rate=0, backlog_days=0.5, live_fraction=0
    )
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        cfg = sims.connector_configs["provincial_petition"]
        url = f"{cfg['base_url']}/xf/ws/petitions"
        end = sims.scenario.live_end.astimezone(CST) + timedelta(minutes=5)
        wide = {"from": _local(end - timedelta(hours=24)), "to": _local(end)}
        async with http.get(url, params=wide, headers=_basic(cfg)) as resp:
            root = ElementTree.fromstring(await resp.read())
        assert root.tag == NS + "Error"
        assert (root.get("code"), root.get("limit")) == ("TOO_MANY", "500")
        total, hours = 0, 0
        while hours < 24:
            lo = end - timedelta(hours=24 - hours)
            narrow = {"from": _local(lo), "to": _local(lo + timedelta(hours=1))}
            async with http.get(url, params=narrow, headers=_basic(cfg)) as resp:
                root = ElementTree.fromstring(await resp.read())
            assert root.tag == NS + "QueryResult"
            total += sum(
                (p.findtext(NS + "BBH") or "").isdigit() for p in root.findall(NS + "Petition")
            )
            hours += 1
    expected = {
        v.external_id
        for v in sims.scenario.expected_versions()
        if v.channel == "provincial_petition"
    }
    assert total == len(expected) > 500


# --------------------------------------------------------------- legal_stations
async def test_legal_stations_etag_and_next_links(http: aiohttp.ClientSession) -> None:
    options = SimulatorOptions(seed=8, incidents=60, stations=11, fault_rate=0)
    async with start_simulators(options) as sims:
        sims.release_all()
        await _check_station_paging(sims, http)


async def _check_station_paging(sims: Simulators, http: aiohttp.ClientSession) -> None:
    cfg = sims.connector_configs["legal_stations"]
    headers = {"Authorization": "Token " + str(cfg["token"])}
    async with http.get(f"{cfg['registry_url']}/stations", headers={}) as resp:
        assert resp.status == 401
    async with http.get(f"{cfg['registry_url']}/stations", headers=headers) as resp:
        stations = await resp.json()
    busiest = max(
        stations,
        key=lambda s: len(
            {v.external_id for v in sims.scenario.versions if v.station_id == s["station_id"]}
        ),
    )
    url = busiest["base_url"] + "/cases?limit=1"
    seen = []
    next_url: str | None = url
    while next_url is not None:
        async with http.get(next_url, headers=headers) as resp:
            body = await resp.json()
            etag = resp.headers["ETag"]
        seen += [(c["updated_at"], c["case_id"]) for c in body["cases"]]
        if next_url == url:
            async with http.get(url, headers=headers | {"If-None-Match": etag}) as resp:
                assert resp.status == 304
        next_url = body["next"]
        assert next_url is None or next_url.startswith(busiest["base_url"] + "/cases?")
    valid = [s for s in seen if not _malformed(s[0])]
    assert len(valid) >= 2
    assert valid == sorted(valid)
    seen = valid
    last = seen[0][0]
    async with http.get(
        busiest["base_url"] + "/cases", params={"updated_after": last}, headers=headers
    ) as resp:
        after = [c["updated_at"] for c in (await resp.json())["cases"]]
    assert last not in after  # updated_after is exclusive
    assert len([a for a in after if not _malformed(a)]) == len([s for s in seen if s[0] > last])


async def test_legal_station_down_modes(sims: Simulators, http: aiohttp.ClientSession) -> None:
    cfg = sims.connector_configs["legal_stations"]
    headers = {"Authorization": "Token " + str(cfg["token"])}
    station = sims.scenario.stations[0]
    url = f"{cfg['registry_url']}/stations/{station.station_id}/cases"
    sims.set_station_down(station.station_id, "http_503")
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 503
    sims.set_station_down(station.station_id, "refuse")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await http.get(url, headers=headers)
    sims.set_station_down(station.station_id, "hang")
    with pytest.raises(TimeoutError):
        await http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=0.3))
    sims.clear_station_override(station.station_id)
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 200


async def test_registry_changes_as_stations_open_and_close() -> None:
    options = SimulatorOptions(seed=4, incidents=10, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        cfg = sims.connector_configs["legal_stations"]
        headers = {"Authorization": "Token " + str(cfg["token"])}

        async def listed() -> set[str]:
            async with http.get(f"{cfg['registry_url']}/stations", headers=headers) as resp:
                return {s["station_id"] for s in await resp.json()}

        before = await listed()
        sims.release_all()
        after = await listed()
    opening = {s.station_id for s in sims.scenario.stations if s.opens_at is not None}
    closing = {s.station_id for s in sims.scenario.stations if s.closes_at is not None}
    assert opening
    assert closing
    assert before.isdisjoint(opening)
    assert closing <= before
    assert opening <= after
    assert after.isdisjoint(closing)


async def test_late_petitions_appear_after_their_window_closed() -> None:
    # A quarter day of backlog: many petitions registered in the last two hours.
    options = SimulatorOptions(
        seed=31, incidents=400, fault_rate=0, live_fraction=0, backlog_days=0.25
    )
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        anchor = sims.scenario.anchor
        late = [
            v
            for v in sims.scenario.versions
            if v.channel == "provincial_petition"
            and v.version == "1"
            and v.at < anchor < v.visible_at
            and not v.malformed
        ]
        assert late, "the scenario holds petitions its county has not synced yet"
        target = late[0]
        cfg = sims.connector_configs["provincial_petition"]
        window = {
            "from": _local(target.at - timedelta(minutes=30)),
            "to": _local(target.at + timedelta(minutes=30)),
        }

        async def ids() -> set[str]:
            async with http.get(
                f"{cfg['base_url']}/xf/ws/petitions", params=window, headers=_basic(cfg)
            ) as resp:
                root = ElementTree.fromstring(await resp.read())
            return {p.findtext(NS + "XFJBH") or "" for p in root.findall(NS + "Petition")}

        before = await ids()
        sims.release_all()
        after = await ids()
    assert target.external_id not in before
    assert target.external_id in after
    assert (target.visible_at - target.at) <= timedelta(hours=2)


def test_tokens_expire_and_nonces_are_single_use() -> None:
    store = TokenStore(ttl_s=600)
    token = store.issue()
    assert store.valid(token)
    assert not store.valid("other")
    store.revoke(token)
    assert not store.valid(token)
    assert not TokenStore(ttl_s=0).valid(TokenStore(ttl_s=0).issue())
    nonces = NonceRegistry()
    assert nonces.use("abcdefgh12345678")
    assert not nonces.use("abcdefgh12345678")
