"""The admin REST API (Kafka Connect's shape) over the real broker and simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from caseloop.calendar import WorkingDayCalendar
from connectors.secrets import SecretResolver
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from review.store.sqlite import SqliteCaseStore
from simulators import SimulatorOptions, Simulators, start_simulators
from unionhub.admin import AdminService
from unionhub.admin.statustopic import ConnectorState, ConnectorStatus, StatusPublisher
from unionhub.configstore import ConfigStore
from unionhub.daemon.caseloop import CaseLoopServices
from unionhub.daemon.server import build_app

pytestmark = pytest.mark.integration

TOKEN = "rest-test-token-81b2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def sims() -> AsyncIterator[Simulators]:
    """Simulators without faults, everything released."""
    options = SimulatorOptions(seed=21, incidents=5, speed=1000, fault_rate=0.0, stations=11)
    async with start_simulators(options) as running:
        running.release_all()
        yield running


@pytest.fixture
async def client(settings: Settings, topics: TopicCatalog) -> AsyncIterator[TestClient[Any, Any]]:
    """The daemon's HTTP app over a real config store (no connectors run here)."""
    async with (
        AdminService.open(settings, {"CITIZEN_SECRET": "from-the-env"}) as service,
        ConfigStore.for_settings(settings) as store,
    ):
        loop = CaseLoopServices(
            settings, store, SecretResolver(), WorkingDayCalendar, store=SqliteCaseStore(None)
        )
        app = build_app(
            service,
            CollectorRegistry(),
            lambda: {"ok": True},
            TOKEN,
            extra_middlewares=[loop.middleware()],
            mount=[loop.mount],
        )
        async with TestClient(TestServer(app)) as test_client:
            yield test_client
        await loop.close()


async def _json(client: TestClient[Any, Any], method: str, path: str, **kw: Any) -> Any:
    async with client.request(method, path, headers=AUTH, **kw) as resp:
        return resp.status, (await resp.json() if resp.content_type == "application/json" else None)


async def test_every_admin_route_refuses_a_missing_or_wrong_token(
    client: TestClient[Any, Any],
) -> None:
    calls = [
        ("GET", "/connectors"),
        ("POST", "/connectors"),
        ("GET", "/connectors/x/config"),
        ("PUT", "/connectors/x/config"),
        ("GET", "/connectors/x/status"),
        ("PUT", "/connectors/x/pause"),
        ("PUT", "/connectors/x/resume"),
        ("POST", "/connectors/x/restart"),
        ("DELETE", "/connectors/x"),
        ("GET", "/connectors/x/offsets"),
        ("DELETE", "/connectors/x/offsets"),
        ("PUT", "/connector-plugins/citizen_app/config/validate"),
    ]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        for method, path in calls:
            async with client.request(method, path, headers=headers) as resp:
                assert resp.status == 401, (method, path, headers)
                body = await resp.json()
                assert body["field"] == "authorization"
    for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        async with client.get(open_path) as resp:
            assert resp.status == 200, open_path


async def test_connector_lifecycle_over_rest_never_returns_secrets(
    client: TestClient[Any, Any], sims: Simulators
) -> None:
    config = dict(sims.connector_configs["citizen_app"])
    secret = str(config["client_secret"])
    name = str(config["name"])
    answers: list[Any] = []

    status, body = await _json(client, "POST", "/connectors", json=config)
    assert status == 201, body
    answers.append(body)
    assert body["config"]["client_secret"] == "********"
    assert body["target_state"] == "RUNNING"

    status, body = await _json(client, "POST", "/connectors", json=config)
    assert (status, body["field"]) == (409, "name")

    status, body = await _json(client, "GET", "/connectors")
    assert (status, body) == (200, [name])
    status, body = await _json(client, "GET", "/connectors?expand=status&expand=info")
    answers.append(body)
    assert body[name]["status"]["connector"]["state"] == "UNASSIGNED"

    status, body = await _json(client, "GET", f"/connectors/{name}/config")
    answers.append(body)
    assert status == 200
    assert body["client_secret"] == "********"
    assert body["client_id"] == config["client_id"]

    replaced = config | {"page_size": 50, "client_secret": "${env:CITIZEN_SECRET}"}
    status, body = await _json(client, "PUT", f"/connectors/{name}/config", json=replaced)
    answers.append(body)
    assert status == 200
    assert body["config"]["page_size"] == 50
    assert body["config"]["client_secret"] == "********"  # references are masked too

    status, body = await _json(client, "GET", f"/connectors/{name}/status")
    answers.append(body)
    assert (status, body["target_state"], body["type"]) == (200, "RUNNING", "source")

    assert (await _json(client, "PUT", f"/connectors/{name}/pause"))[0] == 202
    status, body = await _json(client, "GET", f"/connectors/{name}")
    assert body["target_state"] == "PAUSED"
    assert (await _json(client, "PUT", f"/connectors/{name}/resume"))[0] == 202
    status, body = await _json(client, "GET", f"/connectors/{name}")
    assert body["target_state"] == "RUNNING"
    assert (await _json(client, "POST", f"/connectors/{name}/restart"))[0] == 202

    status, body = await _json(client, "GET", f"/connectors/{name}/offsets")
    assert (status, body) == (200, {"offsets": []})

    status, body = await _json(client, "DELETE", f"/connectors/{name}")
    assert status == 204
    status, body = await _json(client, "GET", f"/connectors/{name}")
    assert (status, body["field"]) == (404, "name")
    for answer in answers:
        assert secret not in orjson.dumps(answer).decode()
        assert "CITIZEN_SECRET" not in orjson.dumps(answer).decode()


async def test_offsets_reset_only_while_paused(
    client: TestClient[Any, Any], sims: Simulators, settings: Settings, topics: TopicCatalog
) -> None:
    config = dict(sims.connector_configs["hotline_12351"])
    name = str(config["name"])
    assert (await _json(client, "POST", "/connectors", json=config))[0] == 201

    status, body = await _json(client, "DELETE", f"/connectors/{name}/offsets")
    assert (status, body["field"]) == (409, "target_state")
    patch = {"offsets": {name: {"watermark": "2026-11-01 00:00:00"}}}
    status, body = await _json(client, "PATCH", f"/connectors/{name}/offsets", json=patch)
    assert status == 409

    assert (await _json(client, "PUT", f"/connectors/{name}/pause"))[0] == 202

    # Paused, but a daemon still reports it running: refused until it has stopped.
    publisher = StatusPublisher(settings.kafka_bootstrap, topics.connector_status, "test")
    await publisher.start()
    try:
        running = ConnectorStatus(
            name=name,
            channel="hotline_12351",
            state=ConnectorState.RUNNING,
            worker_id="w1",
            updated_at=datetime.now(UTC).isoformat(),
        )
        await publisher.connector(running)
        status, body = await _json(client, "PATCH", f"/connectors/{name}/offsets", json=patch)
        assert (status, body["field"]) == (409, "state")
        # A status nobody refreshed for minutes is from a daemon that is gone.
        stale = replace(running, updated_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat())
        await publisher.connector(stale)
    finally:
        await publisher.stop()
    status, body = await _json(client, "PATCH", f"/connectors/{name}/offsets", json=patch)
    assert status == 200, body
    assert body["offsets"] == [{"key": name, "checkpoint": patch["offsets"][name]}]
    status, body = await _json(client, "GET", f"/connectors/{name}/offsets")
    assert body["offsets"] == [{"key": name, "checkpoint": patch["offsets"][name]}]

    bad: dict[str, Any] = {"offsets": {"someone-else": {}}}
    status, body = await _json(client, "PATCH", f"/connectors/{name}/offsets", json=bad)
    assert (status, body["field"]) == (400, "offsets")

    status, body = await _json(client, "DELETE", f"/connectors/{name}/offsets")
    assert (status, body["offsets"]) == (200, [])
    status, body = await _json(client, "GET", f"/connectors/{name}/offsets")
    assert body == {"offsets": []}


async def test_invalid_configs_are_refused_naming_the_field(
    client: TestClient[Any, Any], sims: Simulators
) -> None:
    config = dict(sims.connector_configs["citizen_app"])
    cases = [
        (config | {"page_size": 1000}, "page_size"),
        (config | {"channel": "carrier_pigeon"}, "channel"),
        ({k: v for k, v in config.items() if k != "client_id"}, "client_id"),
        (config | {"base_url": "ftp://x"}, "base_url"),
        (config | {"client_secret": "${env:BROKEN"}, "client_secret"),
        (config | {"name": "bad name!"}, "name"),
        (config | {"surprise": 1}, "surprise"),
    ]
    for bad, field in cases:
        status, body = await _json(client, "POST", "/connectors", json=bad)
        assert status == 400, (field, body)
        assert body["field"] == field, body
        assert body["reason"]
        assert str(config["client_secret"]) not in orjson.dumps(body).decode()
    async with client.post("/connectors", headers=AUTH, data=b"{not json") as resp:
        assert resp.status == 400
        assert (await resp.json())["field"] == "body"
    status, body = await _json(client, "GET", "/connectors")
    assert body == []


async def test_validate_checks_fields_and_the_upstream_live(
    client: TestClient[Any, Any], sims: Simulators
) -> None:
    good = dict(sims.connector_configs["citizen_app"])
    path = "/connector-plugins/citizen_app/config/validate"
    status, body = await _json(client, "PUT", path, json=good)
    assert status == 200
    assert body["error_count"] == 0, body
    assert body["live_check"] == {"checked": True, "ok": True}

    wrong = good | {"client_secret": "not-the-secret-77"}
    status, body = await _json(client, "PUT", path, json=wrong)
    assert body["error_count"] == 1
    assert body["errors"][0]["field"] == "credentials"
    assert "not-the-secret-77" not in orjson.dumps(body).decode()

    status, body = await _json(client, "PUT", path, json=good | {"page_size": 0, "client_id": 5})
    assert {e["field"] for e in body["errors"]} == {"page_size", "client_id"}
    assert body["live_check"] == {"checked": False}

    legal = dict(sims.connector_configs["legal_stations"])
    status, body = await _json(
        client, "PUT", "/connector-plugins/legal_stations/config/validate", json=legal
    )
    assert body["error_count"] == 0, body

    status, body = await _json(
        client, "PUT", "/connector-plugins/carrier_pigeon/config/validate", json=good
    )
    assert (status, body["field"]) == (404, "channel")
    status, body = await _json(
        client, "PUT", "/connector-plugins/hotline_12351/config/validate", json=good
    )
    assert (status, body["field"]) == (400, "channel")


async def test_openapi_document_describes_every_admin_route(
    client: TestClient[Any, Any],
) -> None:
    async with client.get("/openapi.json") as resp:
        document = await resp.json()
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    } - {(p, "PARAMETERS") for p in document["paths"]}
    served = {
        (route.resource.canonical, route.method)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert served == documented


async def test_a_reply_sink_is_a_connector_of_type_sink_over_a_source_with_reply_credentials(
    client: TestClient[Any, Any], sims: Simulators
) -> None:
    plugins = (await _json(client, "GET", "/connector-plugins"))[1]
    assert {"class": "citizen_app", "type": "sink"} in plugins
    assert {"class": "hotline_12351", "type": "sink"} in plugins
    assert {p["class"] for p in plugins if p["type"] == "sink"} == {"citizen_app", "hotline_12351"}
    sink = dict(sims.sink_configs["citizen_app"])
    status, body = await _json(client, "POST", "/connectors", json=sink)
    assert (status, body["field"]) == (400, "connector")
    assert body["reason"] == "no source connector named citizen_app-sim: no sink"
    # A channel config without reply credentials gets no sink, and says so.
    source = {**sims.connector_configs["citizen_app"], "replies": False}
    assert (await _json(client, "POST", "/connectors", json=source))[0] == 201
    status, body = await _json(client, "POST", "/connectors", json=sink)
    assert (status, body["field"]) == (400, "connector")
    assert "has no reply credentials" in body["reason"]
    status, body = await _json(client, "GET", "/connectors/citizen_app-sim/status")
    assert body["type"] == "source"
    assert body["replies"]["possible"] is False
    assert "no reply credentials" in body["replies"]["reason"]
    status, _ = await _json(
        client, "PUT", "/connectors/citizen_app-sim/config", json={**source, "replies": True}
    )
    assert status == 200
    status, body = await _json(client, "POST", "/connectors", json=sink)
    assert status == 201, body
    assert (body["status"]["type"], body["status"]["source_connector"]) == (
        "sink",
        "citizen_app-sim",
    )
    status, body = await _json(client, "GET", "/connectors/citizen_app-sim/status")
    assert body["replies"] == {
        "possible": True,
        "reason": None,
        "sinks": ["citizen_app-sim-replies"],
    }
    assert (await _json(client, "PUT", "/connectors/citizen_app-sim-replies/pause"))[0] == 202
    status, body = await _json(client, "GET", "/connectors/citizen_app-sim-replies")
    assert (body["target_state"], body["status"]["type"]) == ("PAUSED", "sink")
    bad = {**sink, "name": "x-replies", "channel": "petition_window"}
    status, body = await _json(client, "POST", "/connectors", json=bad)
    assert (status, body["field"]) == (400, "channel")
