"""Chaos controls of the simulators: storms per channel and a rotated client secret."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import aiohttp
import pytest

from simulators import SimulatorOptions, Simulators, start_simulators

pytestmark = pytest.mark.timeout(60)


async def _listing(http: aiohttp.ClientSession, sims: Simulators) -> int:
    p = sims.connector_configs["petition_window"]
    async with http.get(
        f"{p['base_url']}/exports", headers={"X-Api-Key": str(p["api_key"])}
    ) as resp:
        await resp.read()
        return resp.status


async def _token(http: aiohttp.ClientSession, cfg: dict[str, Any], secret: str) -> int:
    form = {
        "grant_type": "client_credentials",
        "client_id": str(cfg["client_id"]),
        "client_secret": secret,
    }
    async with http.post(f"{cfg['base_url']}/oauth/token", data=form) as resp:
        await resp.read()
        return resp.status


async def test_a_5xx_storm_hits_its_channel_only_until_it_ends() -> None:
    options = SimulatorOptions(seed=21, incidents=10, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        sims.storm("petition_window", "http_5xx")
        during = Counter([await _listing(http, sims) for _ in range(20)])
        c = sims.connector_configs["citizen_app"]
        other = await _token(http, c, str(c["client_secret"]))
        sims.end_storm("petition_window")
        after = Counter([await _listing(http, sims) for _ in range(20)])
        counts = sims.fault_counts()
    assert during == {503: 20}
    assert other == 200, "other channels answer as usual"
    assert after == {200: 20}
    assert counts == {"petition_window.storm_http_5xx": 20}


async def test_a_429_storm_at_half_rate_answers_retry_after_about_half_the_time() -> None:
    options = SimulatorOptions(seed=22, incidents=10, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.storm("petition_window", "http_429", rate=0.5)
        statuses = Counter([await _listing(http, sims) for _ in range(200)])
    assert set(statuses) == {200, 429}
    assert 60 < statuses[429] < 140


async def test_a_hang_storm_keeps_requests_open_past_the_client_timeout() -> None:
    options = SimulatorOptions(seed=23, incidents=10, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.storm("petition_window", "hang")
        with pytest.raises(TimeoutError):
            async with http.get(
                f"{sims.base_url}/petition/exports", timeout=aiohttp.ClientTimeout(total=0.5)
            ):
                pass
        assert sims.fault_counts() == {"petition_window.storm_hang": 1}


async def test_a_torn_storm_serves_downloads_whose_checksum_does_not_match() -> None:
    options = SimulatorOptions(seed=24, incidents=30, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        sims.release_all()
        p = sims.connector_configs["petition_window"]
        headers = {"X-Api-Key": str(p["api_key"])}
        async with http.get(f"{p['base_url']}/exports", headers=headers) as resp:
            entry = (await resp.json())[0]
        url = f"{p['base_url']}/exports/{entry['batch_id']}.csv"
        sims.storm("petition_window", "torn")
        async with http.get(url, headers=headers) as resp:
            torn = await resp.read()
        sims.end_storm("petition_window")
        async with http.get(url, headers=headers) as resp:
            whole = await resp.read()
        counts = sims.fault_counts()
    assert hashlib.sha256(torn).hexdigest() != entry["sha256"]
    assert hashlib.sha256(whole).hexdigest() == entry["sha256"]
    assert whole.startswith(torn)
    assert len(torn) < len(whole)
    assert counts["petition_window.storm_torn"] >= 1


async def test_storms_refuse_unknown_kinds_channels_and_rates() -> None:
    async with start_simulators(SimulatorOptions(seed=25, incidents=5)) as sims:
        with pytest.raises(ValueError, match="kind"):
            sims.storm("petition_window", "flood")
        with pytest.raises(ValueError, match="channel"):
            sims.storm("fax", "hang")
        with pytest.raises(ValueError, match="torn"):
            sims.storm("hotline_12351", "torn")
        with pytest.raises(ValueError, match="rate"):
            sims.storm("hotline_12351", "hang", rate=0)


async def test_a_rotated_client_secret_refuses_the_old_one_and_its_tokens() -> None:
    options = SimulatorOptions(seed=26, incidents=10, fault_rate=0)
    async with start_simulators(options) as sims, aiohttp.ClientSession() as http:
        c = sims.connector_configs["citizen_app"]
        old = str(c["client_secret"])
        form = {
            "grant_type": "client_credentials",
            "client_id": c["client_id"],
            "client_secret": old,
        }
        async with http.post(f"{c['base_url']}/oauth/token", data=form) as resp:
            token = (await resp.json())["access_token"]
        new = sims.rotate_secret("citizen_client_secret")
        async with http.get(
            f"{c['base_url']}/api/v2/appeals", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            with_old_token = resp.status
        refused = await _token(http, c, old)
        accepted = await _token(http, c, new)
        configs = sims.connector_configs
        with pytest.raises(ValueError, match="credential"):
            sims.rotate_secret("no_such_key")
    assert new != old
    assert (with_old_token, refused, accepted) == (401, 401, 200)
    assert configs["citizen_app"]["client_secret"] == new
