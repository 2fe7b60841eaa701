"""Replies to citizen_app and hotline_12351, judged by the simulators' idempotency ledgers.

The real daemon (a subprocess) runs the channel's source, its reply sink and the
router against the simulators; the city desk resolves and closes cases through the
case API. Per channel: a resolved case yields exactly one reply per report of the
channel, and a close one more; the upstream's echo of a reply comes back as a
``case_updated``, reopens nothing and is not answered; the daemon SIGKILLed between
the upstream taking a reply and the sink's commit still leaves one reply; a record
closed upstream (409 / 40901) becomes a dead letter on ``intake.dlq`` with the answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.integration.daemon_harness import RunningDaemon, running_daemon
from tests.kafka_helpers import eventually, read_to_end
from unionhub.configstore import ConfigStore

pytestmark = pytest.mark.integration

CITY = "city-desk-token-reply-3b7d"
CHANNELS = ["citizen_app", "hotline_12351"]
CLOSED = {"citizen_app": "closed", "hotline_12351": "已办结"}


@contextlib.asynccontextmanager
async def simulators() -> AsyncIterator[Simulators]:
    options = SimulatorOptions(seed=15, incidents=30, stations=11, live_fraction=0.0, fault_rate=0)
    async with start_simulators(options) as sims:
        sims.release_all()
        yield sims


async def configure(daemon: RunningDaemon, sims: Simulators, channel: str) -> str:
    """Store the channel's source and its sink through the REST API; the sink's name."""
    status, body = await daemon.call("POST", "/connectors", json=sims.connector_configs[channel])
    assert status == 201, body
    sink = sims.sink_configs[channel]
    status, body = await daemon.call("POST", "/connectors", json=sink)
    assert status == 201, body
    assert body["status"]["type"] == "sink"
    return str(sink["name"])


async def cases_of(settings: Settings, channel: str) -> dict[str, dict[str, Any]]:
    """The latest state of every placed case with a report of ``channel``."""
    latest: dict[str, dict[str, Any]] = {}
    for record in await read_to_end(
        settings.kafka_bootstrap, TopicCatalog(settings.namespace).cases_state
    ):
        if record.value is not None:
            state = orjson.loads(record.value)
            latest[state["case_id"]] = state
    return {
        case_id: state
        for case_id, state in latest.items()
        if state["district"] and any(s["channel"] == channel for s in state["sources"])
    }


def reports(state: dict[str, Any], channel: str) -> list[str]:
    return sorted({s["external_id"] for s in state["sources"] if s["channel"] == channel})


async def open_case(
    settings: Settings, sims: Simulators, channel: str, *, closed_upstream: bool = False
) -> dict[str, Any]:
    """A placed case whose reports of ``channel`` are open upstream (or, asked, one closed)."""

    async def fits(state: dict[str, Any]) -> bool:
        records = [sims.current_record(channel, ext) for ext in reports(state, channel)]
        shut = [r is not None and r.get("status") == CLOSED[channel] for r in records]
        return all(shut) if closed_upstream else not any(shut)

    found: list[dict[str, Any]] = []

    async def some() -> bool:
        found[:] = [s for s in (await cases_of(settings, channel)).values() if await fits(s)]
        return bool(found)

    await eventually(some, timeout_s=90)
    return found[0]


async def act(daemon: RunningDaemon, case_id: str, **action: Any) -> dict[str, Any]:
    status, body = await daemon.call("POST", f"/cases/{case_id}/actions", token=CITY, json=action)
    assert status == 200, body
    return dict(body)


async def resolve(daemon: RunningDaemon, case_id: str) -> None:
    await act(daemon, case_id, action="accept")
    await act(daemon, case_id, action="resolve", result="resolved", reason="已协调企业支付工资")


def taken(sims: Simulators, channel: str, externals: list[str]) -> list[Any]:
    return [r for r in sims.replies(channel) if r.external_id in externals]


async def sink_settled(daemon: RunningDaemon, sink: str) -> bool:
    status, body = await daemon.call("GET", f"/connectors/{sink}/status")
    connector = body["connector"] if status == 200 else {}
    return connector.get("state") == "RUNNING" and connector.get("lag") == 0


async def start(settings: Settings) -> None:
    async with ConfigStore(settings.kafka_bootstrap, TopicCatalog(settings.namespace)) as store:
        await store.put_access("city", CITY)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_one_reply_per_report_and_transition_and_the_echo_changes_nothing(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, channel: str
) -> None:
    await start(settings)
    async with simulators() as sims, running_daemon(settings, tmp_path) as daemon:
        sink = await configure(daemon, sims, channel)
        case = await open_case(settings, sims, channel)
        externals = reports(case, channel)
        await resolve(daemon, case["case_id"])

        async def one_each() -> bool:
            return len(taken(sims, channel, externals)) == len(externals)

        await eventually(one_each, timeout_s=60)
        first = taken(sims, channel, externals)
        assert sorted(r.external_id for r in first) == externals
        assert all("已协调企业支付工资" in r.text for r in first)

        # The echo: each replied record's next version comes back as a case_updated ...
        async def echoed() -> bool:
            events = await read_to_end(settings.kafka_bootstrap, topics.dispatch(case["district"]))
            seen = {
                (e["report"]["external_id"], e["report"]["version"])
                for e in (orjson.loads(r.value) for r in events if r.value)
                if e["event_type"] == "case_updated"
            }
            return all((r.external_id, r.version) in seen for r in first)

        await eventually(echoed, timeout_s=90)
        await eventually(lambda: sink_settled(daemon, sink), timeout_s=30)
        # ... which neither reopens the case nor is answered again.
        status, body = await daemon.call("GET", f"/cases/{case['case_id']}", token=CITY)
        assert (status, body["status"], body["reopened"]) == (200, "resolved", 0)
        assert len(taken(sims, channel, externals)) == len(externals)
        _, metrics = await daemon.call("GET", "/metrics", token=None)
        lines = [line for line in str(metrics).splitlines() if f'connector="{sink}"' in line]
        assert any(line.startswith("unionhub_sink_lag") and line.endswith(" 0.0") for line in lines)
        replied = [line for line in lines if line.startswith("unionhub_sink_replies_total")]
        assert replied
        assert float(replied[0].rsplit(" ", 1)[1]) == len(externals)

        await act(daemon, case["case_id"], action="visit", satisfaction="satisfied")

        async def closed_too() -> bool:
            return len(taken(sims, channel, externals)) == 2 * len(externals)

        await eventually(closed_too, timeout_s=60)
        keys = [r.key for r in taken(sims, channel, externals)]
        assert len(set(keys)) == len(keys)
        assert sims.reply_answers(channel).get("repeat", 0) == 0


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_sink_killed_between_send_and_commit_still_replies_once(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, channel: str
) -> None:
    await start(settings)
    async with simulators() as sims:
        async with running_daemon(settings, tmp_path) as daemon:
            await configure(daemon, sims, channel)
            case = await open_case(settings, sims, channel)
            externals = reports(case, channel)
            sims.storm(channel, "reply_lost")  # taken upstream, the answer never comes back
            await resolve(daemon, case["case_id"])

            async def sent() -> bool:
                return len(taken(sims, channel, externals)) >= 1

            await eventually(sent, timeout_s=60)
            daemon.process.kill()  # SIGKILL: the sink waits on the answer, nothing committed
            await daemon.process.wait()
        sims.end_storm(channel)
        async with running_daemon(settings, tmp_path) as daemon:

            async def all_told() -> bool:
                return len(taken(sims, channel, externals)) == len(externals)

            await eventually(all_told, timeout_s=90)
            await eventually(lambda: sink_settled(daemon, str(sims.sink_configs[channel]["name"])))
        replies = taken(sims, channel, externals)
        assert sorted(r.external_id for r in replies) == externals  # the ledger: one each
        assert sims.reply_answers(channel)["repeat"] >= 1  # the same key came again


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_reply_to_a_record_closed_upstream_is_a_dead_letter_with_the_answer(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, channel: str
) -> None:
    await start(settings)
    async with simulators() as sims, running_daemon(settings, tmp_path) as daemon:
        sink = await configure(daemon, sims, channel)
        case = await open_case(settings, sims, channel, closed_upstream=True)
        externals = reports(case, channel)
        await resolve(daemon, case["case_id"])

        letters: list[dict[str, Any]] = []

        async def dead_lettered() -> bool:
            records = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
            letters[:] = [
                letter
                for letter in (orjson.loads(r.value) for r in records if r.value)
                if letter["error"]["kind"] == "reply_refused"
            ]
            return {letter["external_id"] for letter in letters} == set(externals)

        await eventually(dead_lettered, timeout_s=60)
        code = "HTTP 409" if channel == "citizen_app" else "40901"
        assert all(code in letter["error"]["message"] for letter in letters), letters
        assert all(letter["connector"] == sink for letter in letters)
        assert len(letters) == len(externals)  # once each
        assert taken(sims, channel, externals) == []
        await eventually(lambda: sink_settled(daemon, sink), timeout_s=30)
        status, body = await daemon.call("GET", f"/connectors/{sink}/status")
        assert (status, body["connector"]["dead_letters"]) == (200, len(externals))
