"""The case loop in the router, on a real broker: a dispatched case gets a state, districts'
actions move it (or are refused by name), and its clocks raise SLA alerts once each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest

from caseloop.loopclock import LoopClock
from core.kafka.clients import idempotent_producer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.app import RouterApp
from schemas.caseloop import CaseAction, CaseState
from tests.kafka_helpers import eventually, read_to_end
from tests.unit.router_builders import appeal_envelope, mobile

pytestmark = pytest.mark.integration

# One loop hour per wall second: an emergency's 4-hour contact clock lasts 4 s.
SPEED = 3600.0


@pytest.fixture
async def loop_settings(settings: Settings, topics: TopicCatalog) -> Settings:
    return settings.model_copy(update={"loop_speed": SPEED, "loop_anchor": datetime.now(UTC)})


@pytest.fixture
async def router(loop_settings: Settings) -> AsyncIterator[RouterApp]:
    app = RouterApp(loop_settings)
    task = asyncio.create_task(app.run())
    yield app
    app.stop()
    await asyncio.wait_for(task, timeout=20)


async def send(settings: Settings, topic: str, key: str, value: bytes) -> None:
    producer = idempotent_producer(settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key.encode())
    finally:
        await producer.stop()


async def states(settings: Settings, topics: TopicCatalog) -> dict[str, CaseState]:
    found: dict[str, CaseState] = {}
    for record in await read_to_end(settings.kafka_bootstrap, topics.cases_state):
        if record.value is not None:
            found[record.key.decode()] = CaseState.model_validate_json(record.value)
    return found


def action(
    settings: Settings, case_id: str, actor: str, kind: str, action_id: str, **fields: object
) -> bytes:
    """An action done now, in loop time (as the federations and the API send them)."""
    at = LoopClock(settings.loop_speed, settings.loop_anchor).now()
    return CaseAction.model_validate(
        {
            "action_id": action_id,
            "case_id": case_id,
            "actor": actor,
            "action": kind,
            "at": at.isoformat(),
            **fields,
        }
    ).to_json()


async def test_a_case_is_opened_moved_refused_and_supervised_exactly_once(
    loop_settings: Settings, topics: TopicCatalog, router: RouterApp
) -> None:
    envelope = appeal_envelope(appeal_id="MY-LOOP-1", phone=mobile(1), people=12)
    await send(loop_settings, topics.raw("citizen_app"), "MY-LOOP-1", envelope.to_json())

    async def opened() -> bool:
        return any(s.district == "nanshan" for s in (await states(loop_settings, topics)).values())

    await eventually(opened, timeout_s=60)
    (case,) = (await states(loop_settings, topics)).values()
    assert case.urgency == "emergency"  # 12 people
    assert case.status == "dispatched"
    assert {c.state for c in case.clocks.values()} == {"running"}

    accept = action(loop_settings, case.case_id, "nanshan", "accept", "nanshan-1")
    await send(loop_settings, topics.actions("nanshan"), case.case_id, accept)
    await send(loop_settings, topics.actions("nanshan"), case.case_id, accept)  # repeated
    wrong_topic = action(loop_settings, case.case_id, "nanshan", "note", "nanshan-2")
    await send(loop_settings, topics.actions("futian"), case.case_id, wrong_topic)
    too_early = action(
        loop_settings, case.case_id, "nanshan", "visit", "nanshan-3", satisfaction="satisfied"
    )
    await send(loop_settings, topics.actions("nanshan"), case.case_id, too_early)

    async def accepted() -> bool:
        current = (await states(loop_settings, topics))[case.case_id]
        return current.status == "accepted"

    await eventually(accepted, timeout_s=30)

    async def refused_twice() -> bool:
        letters = await read_to_end(loop_settings.kafka_bootstrap, topics.router_dlq)
        return len(letters) >= 2

    await eventually(refused_twice, timeout_s=30)
    letters = [
        orjson.loads(r.value)
        for r in await read_to_end(loop_settings.kafka_bootstrap, topics.router_dlq)
    ]
    reasons = {letter["external_id"]: letter["error"] for letter in letters}
    assert reasons["nanshan-2"]["kind"] == "action_refused"
    assert reasons["nanshan-2"]["message"] == ("actor: nanshan sent on the action topic of futian")
    assert reasons["nanshan-3"] == {
        "kind": "action_refused.state",
        "message": "action: visit is not allowed when the case is accepted",
    }

    # The contact clock (4 loop hours = 4 s) passes 80, 100 and 200 %: one alert each.
    async def escalated() -> bool:
        alerts = await read_to_end(loop_settings.kafka_bootstrap, topics.sla_alerts)
        return any(orjson.loads(a.value)["level"] == "escalated" for a in alerts)

    await eventually(escalated, timeout_s=60)
    alerts = [
        orjson.loads(r.value)
        for r in await read_to_end(loop_settings.kafka_bootstrap, topics.sla_alerts)
    ]
    contact = [(a["clock"], a["level"]) for a in alerts if a["clock"] == "contact"]
    assert contact == [("contact", "warning"), ("contact", "overdue"), ("contact", "escalated")]
    assert len({a["alert_id"] for a in alerts}) == len(alerts)
    final = (await states(loop_settings, topics))[case.case_id]
    assert [h.action_id for h in final.history] == ["nanshan-1"]
