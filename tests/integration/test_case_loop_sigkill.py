"""SLA alerts exactly once across SIGKILLs of the real daemon, and deadlines that passed
while it was down raised at start-up with their true times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from caseloop.loopclock import LoopClock
from core.kafka.clients import idempotent_producer
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.caseloop import CaseState, ClockName
from tests.integration.daemon_harness import running_daemon
from tests.kafka_helpers import eventually, read_to_end
from tests.unit.router_builders import appeal_envelope, mobile

pytestmark = pytest.mark.integration

SPEED = 3600.0  # a loop hour per wall second


async def case_states(settings: Settings, topics: TopicCatalog) -> list[CaseState]:
    records = await read_to_end(settings.kafka_bootstrap, topics.cases_state)
    return [CaseState.model_validate_json(r.value) for r in records if r.value is not None]


async def sla_alerts(settings: Settings, topics: TopicCatalog) -> list[dict[str, str]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.sla_alerts)
    return [orjson.loads(r.value) for r in records]


async def test_levels_are_raised_once_across_kills_and_on_start_up_after_downtime(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    anchor = datetime.now(UTC)
    clock = LoopClock(SPEED, anchor)
    env = {"UNIONHUB_LOOP_SPEED": str(SPEED), "UNIONHUB_LOOP_ANCHOR": anchor.isoformat()}
    producer = idempotent_producer(settings.kafka_bootstrap)
    await producer.start()
    envelope = appeal_envelope(appeal_id="MY-KILL-1", phone=mobile(3), people=15)
    await producer.send_and_wait(
        topics.raw("citizen_app"), value=envelope.to_json(), key=b"MY-KILL-1"
    )
    await producer.stop()

    async with running_daemon(settings, tmp_path, env=env) as first:

        async def opened() -> bool:
            return bool(await case_states(settings, topics))

        await eventually(opened, timeout_s=60)
        first.process.kill()  # SIGKILL: no clean shutdown, whatever was in flight
        await first.process.wait()
    (case,) = await case_states(settings, topics)
    contact = case.clocks[ClockName.CONTACT]
    assert contact.started_at is not None
    assert contact.due_at is not None
    escalated_at = contact.started_at + 2 * (contact.due_at - contact.started_at)

    async def passed_while_down() -> bool:
        return clock.now() > escalated_at

    await eventually(passed_while_down, timeout_s=30)  # the loop's time passes; nothing runs

    async with running_daemon(settings, tmp_path, env=env) as second:

        async def contact_escalated() -> bool:
            alerts = await sla_alerts(settings, topics)
            return any(a["clock"] == "contact" and a["level"] == "escalated" for a in alerts)

        await eventually(contact_escalated, timeout_s=60)
        second.process.kill()
        await second.process.wait()

    async with running_daemon(settings, tmp_path, env=env) as third:

        async def looked_twice() -> bool:
            _, text = await third.call("GET", "/metrics", token=None)
            families = text_string_to_metric_families(str(text))
            counts = [
                sample.value
                for family in families
                if family.name == "unionhub_router_punctuations"
                for sample in family.samples
                if sample.labels.get("stage") == "dispatch" and sample.name.endswith("_total")
            ]
            return bool(counts) and counts[0] >= 2

        await eventually(looked_twice, timeout_s=60)  # it looked at the case after its restore
        alerts = await sla_alerts(settings, topics)
        levels = [(a["clock"], a["level"]) for a in alerts]
        assert sorted(levels) == sorted(
            [
                (clock_name, level)
                for clock_name in ("accept", "contact")
                for level in ("warning", "overdue", "escalated")
            ]
        ), levels
        assert len({a["alert_id"] for a in alerts}) == len(alerts)
        contact_levels = {a["level"]: a for a in alerts if a["clock"] == "contact"}
        escalated = contact_levels["escalated"]
        assert datetime.fromisoformat(escalated["level_at"]) == escalated_at
        assert datetime.fromisoformat(escalated["raised_at"]) > escalated_at
        assert datetime.fromisoformat(contact_levels["overdue"]["due_at"]) == contact.due_at
