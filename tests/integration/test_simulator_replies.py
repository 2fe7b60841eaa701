"""The simulators' reply endpoints against caseloop.md "Telling the channel", by a plain client."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import aiohttp
import orjson
import pytest

from connectors.channels.hotline_signing import new_nonce, signed_query
from simulators import SimulatorOptions, Simulators, start_simulators

pytestmark = pytest.mark.timeout(90)

OPTIONS = SimulatorOptions(seed=31, incidents=30, stations=11, live_fraction=0.0, fault_rate=0)


def _records(sims: Simulators, channel: str, status: str, *, closed: bool) -> list[str]:
    ids = sorted({v.external_id for v in sims.scenario.versions if v.channel.value == channel})
    out = []
    for ext in ids:
        record = sims.current_record(channel, ext)
        if record is not None and (record.get("status") == status) == closed:
            out.append(ext)
    return out


async def _token(http: aiohttp.ClientSession, sims: Simulators) -> str:
    c = sims.connector_configs["citizen_app"]
    form = {"grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"]}  # fmt: skip
    async with http.post(f"{c['base_url']}/oauth/token", data=form) as resp:
        return str((await resp.json())["access_token"])


async def _reply(
    http: aiohttp.ClientSession, sims: Simulators, appeal: str, key: str, token: str | None
) -> tuple[int, Any]:
    base = sims.connector_configs["citizen_app"]["base_url"]
    body = {"reply_id": key, "kind": "resolved", "result": "resolved", "text": "办结：已解决",
            "replied_at": "2026-03-02T10:00:00+08:00"}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{base}/api/v2/appeals/{appeal}/replies"
    async with http.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def _feedback(
    http: aiohttp.ClientSession, sims: Simulators, order: str, key: str, secret: str | None = None
) -> Any:
    h = sims.connector_configs["hotline_12351"]
    path = f"/hotline/open/api/v1/workorders/{order}/feedback"
    params = {"app_key": str(h["app_key"]), "timestamp": str(int(time.time() * 1000)),
              "nonce": new_nonce()}  # fmt: skip
    query = signed_query(secret or str(h["app_secret"]), "POST", path, params)
    body = {"feedback_id": key, "handle_result": "办结：已解决", "status": "已办结"}
    async with http.post(f"{sims.base_url}{path}?{query}", json=body) as resp:
        assert resp.status == 200
        return await resp.json()


async def _status(http: aiohttp.ClientSession, sims: Simulators, prefix: str) -> Any:
    async with http.get(f"{sims.base_url}{prefix}/_sim/status") as resp:
        return await resp.json()


async def test_citizen_app_takes_a_reply_once_and_shows_it_in_the_feed() -> None:
    async with start_simulators(OPTIONS) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        open_, shut = (_records(sims, "citizen_app", "closed", closed=c) for c in (False, True))
        appeal = open_[0]
        assert (await _reply(http, sims, appeal, "k-1", None))[0] == 401
        token = await _token(http, sims)
        assert (await _reply(http, sims, appeal, "k-1", token))[0] == 201
        assert (await _reply(http, sims, appeal, "k-1", token))[0] == 200  # the same key
        record = sims.current_record("citizen_app", appeal)
        assert record is not None
        assert record["status"] == "closed"
        labels = {(v.external_id, v.version) for v in sims.scenario.expected_versions()}
        assert (appeal, str(record["version"])) in labels  # a runtime version is expected
        truth = {(v.external_id, v.version): v for v in sims.scenario.truth.versions}
        echo = truth[(appeal, str(record["version"]))]
        assert echo.events == echo.events_live == frozenset({"case_updated"})
        assert (await _reply(http, sims, appeal, "k-2", token))[0] == 201  # closed by us
        status, body = await _reply(http, sims, "MY-NOPE", "k-3", token)
        assert (status, body["error"]) == (404, "appeal_not_found")
        status, body = await _reply(http, sims, shut[0], "k-4", token)
        assert (status, body["error"]) == (409, "appeal_closed")
        replies = sims.replies("citizen_app")
        status_doc = await _status(http, sims, "/citizen")
    assert [(r.external_id, r.key) for r in replies] == [(appeal, "k-1"), (appeal, "k-2")]
    assert status_doc["replies"]["taken"] == 2
    assert status_doc["replies"]["answers"] == {"taken": 2, "repeat": 1, "unknown": 1, "closed": 1}


async def test_hotline_takes_a_signed_feedback_once_and_the_order_shows_it() -> None:
    async with start_simulators(OPTIONS) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        open_, shut = (_records(sims, "hotline_12351", "已办结", closed=c) for c in (False, True))
        order = open_[0]
        assert (await _feedback(http, sims, order, "f-1", secret="wrong"))["code"] == 40101
        assert (await _feedback(http, sims, order, "f-1"))["code"] == 0
        assert (await _feedback(http, sims, order, "f-1"))["code"] == 0  # the same key
        record = sims.current_record("hotline_12351", order)
        assert record is not None
        assert (record["status"], record["handle_result"]) == ("已办结", "办结：已解决")
        assert (await _feedback(http, sims, "GD12351-NOPE", "f-2"))["code"] == 40401
        assert (await _feedback(http, sims, shut[0], "f-3"))["code"] == 40901
        sims.close_upstream("hotline_12351", open_[1])
        assert (await _feedback(http, sims, open_[1], "f-4"))["code"] == 40901
        status_doc = await _status(http, sims, "/hotline")
    assert [r.key for r in sims.replies("hotline_12351")] == ["f-1"]
    assert status_doc["replies"]["answers"] == {"taken": 1, "repeat": 1, "unknown": 1, "closed": 2}


async def test_reply_storms_hit_only_the_reply_endpoints() -> None:
    async with start_simulators(OPTIONS) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        token = await _token(http, sims)
        appeal = _records(sims, "citizen_app", "closed", closed=False)[0]
        order = _records(sims, "hotline_12351", "已办结", closed=False)[0]
        sims.storm("citizen_app", "reply_429")
        sims.storm("hotline_12351", "reply_5xx")
        assert (await _reply(http, sims, appeal, "k-1", token))[0] == 429
        assert (await _feedback(http, sims, order, "f-1"))["code"] == 50000
        assert await _token(http, sims)  # the listing side answers as usual
        sims.end_storm("citizen_app")
        assert (await _reply(http, sims, appeal, "k-1", token))[0] == 201
        counts = sims.fault_counts()
    assert counts["citizen_app.storm_reply_429"] == 1
    assert counts["hotline_12351.storm_reply_5xx"] == 1
    with pytest.raises(ValueError, match="take replies"):
        sims.storm("petition_window", "reply_429")


async def test_faults_at_the_rate_never_take_a_key_twice() -> None:
    options = SimulatorOptions(seed=32, incidents=30, stations=11, live_fraction=0.0,
                               fault_rate=0.5)  # fmt: skip
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        order = _records(sims, "hotline_12351", "已办结", closed=False)[0]
        codes: Counter[int] = Counter()
        for _ in range(40):
            try:
                codes[(await _feedback(http, sims, order, "f-same"))["code"]] += 1
            except (aiohttp.ClientError, orjson.JSONDecodeError):
                codes[-1] += 1  # a dropped connection (maybe after the feedback was taken)
        faults = sims.fault_counts()
    assert codes[0] >= 1
    assert [r.key for r in sims.replies("hotline_12351")] == ["f-same"]
    assert {"hotline_12351.code_42901", "hotline_12351.code_50000"} <= set(faults)
