"""The case API of the real daemon: district tokens, actions applied or refused with the reason,
another district's case refused, the figures, a token rotated without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.kafka.clients import idempotent_producer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from tests.conftest import drop_postgres_schema
from tests.integration.daemon_harness import RunningDaemon, running_daemon
from tests.kafka_helpers import eventually
from tests.unit.router_builders import appeal_envelope, mobile
from unionhub.configstore import ConfigStore

pytestmark = pytest.mark.integration

NANSHAN = "nanshan-token-7f3a9c1e5b"
FUTIAN = "futian-token-2d8e6b4a0c"
CITY = "city-desk-token-9a1c3e5f7b"
ROTATED = "nanshan-token-rotated-4c2e"


async def set_tokens(settings: Settings, tokens: dict[str, str]) -> None:
    async with ConfigStore(settings.kafka_bootstrap, TopicCatalog(settings.namespace)) as store:
        for actor, token in tokens.items():
            await store.put_access(actor, token)


async def report(settings: Settings, topics: TopicCatalog, appeal_id: str) -> None:
    envelope = appeal_envelope(appeal_id=appeal_id, phone=mobile(7))
    producer = idempotent_producer(settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.raw("citizen_app"), value=envelope.to_json(), key=appeal_id.encode()
        )
    finally:
        await producer.stop()


async def the_case(daemon: RunningDaemon) -> str:
    async def listed() -> bool:
        status, body = await daemon.call("GET", "/cases", token=CITY)
        return status == 200 and body["total"] == 1

    await eventually(listed, timeout_s=60)
    _, body = await daemon.call("GET", "/cases", token=CITY)
    case_id: str = body["cases"][0]["case_id"]
    return case_id


async def test_districts_act_on_their_own_cases_through_the_api(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    await set_tokens(settings, {"nanshan": NANSHAN, "futian": FUTIAN, "city": CITY})
    async with running_daemon(settings, tmp_path) as daemon:
        await report(settings, topics, "MY-API-1")
        case_id = await the_case(daemon)
        actions = f"/cases/{case_id}/actions"

        assert (await daemon.call("GET", f"/cases/{case_id}", token=None))[0] == 401
        assert (await daemon.call("GET", f"/cases/{case_id}", token="wrong-token"))[0] == 401
        status, body = await daemon.call("GET", f"/cases/{case_id}", token=FUTIAN)
        assert (status, body["field"]) == (403, "case_id")
        status, body = await daemon.call("POST", actions, token=FUTIAN, json={"action": "accept"})
        assert status == 403
        status, body = await daemon.call("GET", "/cases?district=nanshan", token=FUTIAN)
        assert status == 403
        status, body = await daemon.call(
            "POST", "/cases/case-nope/actions", token=CITY, json={"action": "note"}
        )
        assert (status, body["field"]) == (404, "case_id")

        status, body = await daemon.call(
            "POST", actions, token=NANSHAN, json={"action": "accept", "action_id": "ns-accept-1"}
        )
        assert status == 200, body
        assert body["status"] == "accepted"
        assert [h["action_id"] for h in body["history"]] == ["ns-accept-1"]
        # The same action id again: applied once.
        status, body = await daemon.call(
            "POST", actions, token=NANSHAN, json={"action": "accept", "action_id": "ns-accept-1"}
        )
        assert status == 200
        assert [h["action_id"] for h in body["history"]] == ["ns-accept-1"]

        status, body = await daemon.call("POST", actions, token=NANSHAN, json={"action": "resolve"})
        assert (status, body["field"], body["reason"]) == (400, "result", "required for resolve")
        status, body = await daemon.call(
            "POST", actions, token=NANSHAN, json={"action": "visit", "satisfaction": "satisfied"}
        )
        assert (status, body["field"]) == (409, "action")
        assert body["reason"] == "visit is not allowed when the case is accepted"
        status, body = await daemon.call("POST", actions, token=NANSHAN, json={"action": "fly"})
        assert (status, body["field"]) == (400, "action")

        status, body = await daemon.call(
            "POST",
            actions,
            token=NANSHAN,
            json={
                "action": "resolve",
                "result": "resolved",
                "reason": "已协调支付，电话13812345678",
            },
        )
        assert status == 200, body
        assert body["status"] == "resolved"

        status, body = await daemon.call("GET", "/cases?status=resolved", token=NANSHAN)
        assert (status, body["total"]) == (200, 1)
        status, body = await daemon.call("GET", "/stats?period=week", token=NANSHAN)
        assert status == 200
        assert set(body["figures"]) == {"nanshan"}
        figures = body["figures"]["nanshan"]
        assert figures["dispatched"] == 1
        assert figures["accept_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
        assert figures["resolved"] == 1

        # Rotated: the old token is refused, the new one works, with no restart.
        await set_tokens(settings, {"nanshan": ROTATED})

        async def rotated() -> bool:
            old, _ = await daemon.call("GET", f"/cases/{case_id}", token=NANSHAN)
            new, _ = await daemon.call(
                "GET", f"/cases/{case_id}", token="nanshan-token-rotated-4c2e"
            )
            return (old, new) == (401, 200)

        await eventually(rotated, timeout_s=15)
        assert "13812345678" not in daemon.log_text()


async def test_the_case_api_reads_the_postgresql_store_too(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, postgres_dsn: str
) -> None:
    await set_tokens(settings, {"nanshan": NANSHAN, "city": CITY})
    env = {"UNIONHUB_CASE_STORE": "postgresql", "UNIONHUB_CASE_STORE_DSN": postgres_dsn}
    try:
        async with running_daemon(settings, tmp_path, env=env) as daemon:
            await report(settings, topics, "MY-API-PG-1")
            case_id = await the_case(daemon)
            status, body = await daemon.call(
                "POST", f"/cases/{case_id}/actions", token=NANSHAN, json={"action": "accept"}
            )
            assert (status, body["status"]) == (200, "accepted")
            status, body = await daemon.call("GET", "/cases?status=accepted", token=NANSHAN)
            assert (status, body["total"]) == (200, 1)
            assert postgres_dsn not in daemon.log_text()
    finally:
        drop_postgres_schema(postgres_dsn, settings.namespace)
