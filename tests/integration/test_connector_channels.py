"""Every channel against its simulator and the real broker: each version lands exactly once.

With faults off and with faults on (the simulators' default rate), every
record version the scenario expects is in ``intake.raw.<channel>`` exactly
once (read_committed), nothing outside the versions the upstream could have
served is there, malformed records are in ``intake.dlq`` with their reasons,
and no log event carries an ID number, a phone number or a secret.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest
import structlog

from chaos.scan import pii_terms
from checker.pii import KnownNumbers, clear_number
from connectors.base import PollingSource, SourceContext
from connectors.channels.legal_stations import LegalStationsSource
from connectors.config import parse_config
from connectors.registry import build_source
from connectors.retry import RetryPolicy
from connectors.secrets import SecretResolver
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from simulators import SimulatorOptions, Simulators, start_simulators
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


DEFAULT_FAULT_RATE = SimulatorOptions().fault_rate


def options(fault_rate: float) -> SimulatorOptions:
    """A small scenario whose live hour is compressed into a few seconds."""
    return SimulatorOptions(seed=7, incidents=60, speed=1000.0, fault_rate=fault_rate)


def fast_config(sims: Simulators, channel: Channel) -> dict[str, Any]:
    raw = dict(sims.connector_configs[channel.value])
    raw["poll_interval_s"] = 0.2
    if channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
        raw["backfill_s"] = 8 * 86400  # the scenario's backlog reaches 7 days back
    if channel is Channel.LEGAL_STATIONS:
        raw["request_timeout_s"] = 1.0
    return raw


def fast_context(settings: Settings) -> SourceContext:
    return SourceContext.from_settings(
        settings,
        retry=RetryPolicy(attempts=8, initial_s=0.05, jitter_s=0.05, cap_s=1.0),
        error_pause_s=0.1,
        breaker_cooldown_s=0.5,
    )


async def landed(
    settings: Settings, topics: TopicCatalog, channel: Channel
) -> list[tuple[str, str]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.raw(channel))
    values = [orjson.loads(r.value) for r in records]
    assert all(r.key == v["external_id"].encode() for r, v in zip(records, values, strict=True))
    assert all(dict(r.headers)["schema"] == b"unionhub.raw/1" for r in records)
    return [(v["external_id"], v["version"]) for v in values]


def channel_faults(sims: Simulators, channel: Channel) -> int:
    return sum(n for kind, n in sims.fault_counts().items() if kind.startswith(channel.value))


@pytest.mark.parametrize("fault_rate", [0.0, DEFAULT_FAULT_RATE], ids=["faults_off", "faults_on"])
@pytest.mark.parametrize("channel", list(Channel), ids=[c.value for c in Channel])
async def test_every_version_lands_exactly_once(
    settings: Settings, topics: TopicCatalog, channel: Channel, fault_rate: float
) -> None:
    async with start_simulators(options(fault_rate)) as sims:
        sims.release_all()
        scenario = sims.scenario
        expected = {
            (e.external_id, e.version)
            for e in scenario.expected_versions()
            if e.channel == channel.value
        }
        possible = {
            (e.external_id, e.version)
            for e in scenario.possible_versions()
            if e.channel == channel.value
        }
        expected_dead = Counter(
            (d.external_id, d.kind)
            for d in scenario.expected_dead_letters()
            if d.channel == channel.value
        )
        assert expected, "the scenario must hold records of every channel"
        config = parse_config(fast_config(sims, channel), SecretResolver())
        secrets = config.secrets()
        source: PollingSource = build_source(config, fast_context(settings))

        with structlog.testing.capture_logs() as events:
            await source.start()
            if fault_rate:

                async def faults_happened() -> bool:
                    return channel_faults(sims, channel) >= 3

                await eventually(faults_happened, timeout_s=60)
                if isinstance(source, LegalStationsSource):
                    # Stations stay down for minutes by design; let them come back.
                    sims.set_fault_rate(0.0)

            async def all_landed() -> bool:
                return expected <= set(await landed(settings, topics, channel))

            await eventually(all_landed, timeout_s=60)
            await source.stop()

        versions = await landed(settings, topics, channel)
        duplicates = [v for v, n in Counter(versions).items() if n > 1]
        assert duplicates == []
        assert set(versions) <= possible
        assert expected <= set(versions)
        dead = [
            orjson.loads(r.value)
            for r in await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
        ]
        assert Counter((d["external_id"], d["error"]["kind"]) for d in dead) == expected_dead
        assert all(d["stage"] == "intake" and d["channel"] == channel.value for d in dead)
        assert all(d["connector"] == config.name and d["source"] and d["raw"] for d in dead)
        if fault_rate:
            assert channel_faults(sims, channel) >= 3
        known = KnownNumbers.of(pii_terms(sims))
        for event in events:
            text = orjson.dumps(event, default=str).decode()
            assert not clear_number(text), event["event"]
            assert not known.found(text), event["event"]
            assert not any(secret in text for secret in secrets), event["event"]


@pytest.mark.parametrize("channel", list(Channel), ids=[c.value for c in Channel])
async def test_live_release_lands_each_served_version_once(
    settings: Settings, topics: TopicCatalog, channel: Channel
) -> None:
    """Records released while the connector polls (faults on): superseded versions too."""
    async with start_simulators(options(DEFAULT_FAULT_RATE)) as sims:
        scenario = sims.scenario
        expected = {
            (e.external_id, e.version)
            for e in scenario.expected_versions()
            if e.channel == channel.value
        }
        possible = {
            (e.external_id, e.version)
            for e in scenario.possible_versions()
            if e.channel == channel.value
        }
        source = build_source(parse_config(fast_config(sims, channel), SecretResolver()),
                              fast_context(settings))  # fmt: skip
        await source.start()

        async def half_landed() -> bool:
            return len(set(await landed(settings, topics, channel)) & expected) * 2 >= len(expected)

        await eventually(half_landed, timeout_s=60)
        # Late petitions arrive up to 2 h late in real time, stations stay down for
        # minutes: from here on, everything is served at once and faults stop.
        sims.release_all()
        sims.set_fault_rate(0.0)

        async def all_landed() -> bool:
            return expected <= set(await landed(settings, topics, channel))

        await eventually(all_landed, timeout_s=60)
        await source.stop()

    versions = await landed(settings, topics, channel)
    assert [v for v, n in Counter(versions).items() if n > 1] == []
    assert expected <= set(versions) <= possible
