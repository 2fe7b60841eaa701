"""legal_stations round by round: dead stations delay no other, are caught up, ETags spare work.

Rounds are driven one at a time (``poll_once``) against the simulators with
three stations forced down (refusing, hanging past the timeout, answering 503).
"""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from connectors.base import SourceContext
from connectors.breaker import BreakerState
from connectors.channels.legal_stations import LegalStationsSource
from connectors.config import LegalStationsConfig, parse_config
from connectors.retry import RetryPolicy
from connectors.secrets import SecretResolver
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from simulators import SimulatorOptions, start_simulators
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


def station_of(case_id: str) -> str:
    """``NS-001-2025-0042`` -> ``NS-001``."""
    return case_id.rsplit("-", 2)[0]


async def landed(settings: Settings, topics: TopicCatalog) -> list[tuple[str, str]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.LEGAL_STATIONS))
    values = [orjson.loads(r.value) for r in records]
    assert all(v["station"]["station_id"] == station_of(v["external_id"]) for v in values)
    return [(v["external_id"], v["version"]) for v in values]


async def test_down_stations_delay_nobody_and_are_caught_up(
    settings: Settings, topics: TopicCatalog
) -> None:
    options = SimulatorOptions(seed=5, incidents=120, fault_rate=0.0, speed=1000.0)
    async with start_simulators(options) as sims:
        sims.release_all()
        expected = {
            (e.external_id, e.version)
            for e in sims.scenario.expected_versions()
            if e.channel == Channel.LEGAL_STATIONS.value
        }
        with_cases = sorted({station_of(case_id) for case_id, _ in expected})
        assert len(with_cases) >= 3
        down = dict(zip(with_cases[:3], ("refuse", "hang", "http_503"), strict=True))
        for station_id, mode in down.items():
            sims.set_station_down(station_id, mode)
        raw = dict(sims.connector_configs[Channel.LEGAL_STATIONS.value])
        raw["request_timeout_s"] = 0.5
        config = parse_config(raw, SecretResolver())
        assert isinstance(config, LegalStationsConfig)
        context = SourceContext.from_settings(
            settings, retry=RetryPolicy(attempts=3, initial_s=0.01), breaker_cooldown_s=0.2
        )
        source = LegalStationsSource(config, context)
        await source.writer.start()
        await source.restore()
        await source.open()
        try:
            await source.poll_once()  # one round
            after_one = set(await landed(settings, topics))
            reachable = {v for v in expected if station_of(v[0]) not in down}
            assert reachable <= after_one  # nobody waited for the dead stations
            assert not any(station_of(case_id) in down for case_id, _ in after_one)

            for _ in range(2):
                await source.poll_once()
            assert all(source.breakers[s].state is BreakerState.OPEN for s in down)

            for station_id in down:
                sims.set_station_down(station_id, None)  # back up

            async def caught_up() -> bool:
                await source.poll_once()
                return expected <= set(await landed(settings, topics))

            await eventually(caught_up)
            assert all(source.breakers[s].state is BreakerState.CLOSED for s in down)

            # Nothing new: after one round that learns the ETags of the stations' current
            # queries, every station answers 304 and nothing is committed.
            await source.poll_once()
            transactions = source.writer.counters.transactions
            await source.poll_once()
            assert source.writer.counters.transactions == transactions
            states = source.station_states.values()
            states = source.station_states.values()
            assert all(s.etag and s.etag_after == s.updated_after for s in states)
        finally:
            await source.close()
            await source.writer.close()

    versions = await landed(settings, topics)
    assert [v for v, n in Counter(versions).items() if n > 1] == []
    assert set(versions) == expected


async def test_a_restarted_source_resumes_every_station_from_its_checkpoint(
    settings: Settings, topics: TopicCatalog
) -> None:
    options = SimulatorOptions(seed=6, incidents=60, fault_rate=0.0, speed=1000.0)
    async with start_simulators(options) as sims:
        sims.release_all()
        config = parse_config(
            sims.connector_configs[Channel.LEGAL_STATIONS.value], SecretResolver()
        )
        assert isinstance(config, LegalStationsConfig)
        context = SourceContext.from_settings(settings)
        for _ in range(2):
            source = LegalStationsSource(config, context)
            await source.writer.start()
            await source.restore()
            await source.open()
            try:
                await source.poll_once()
            finally:
                await source.close()
                await source.writer.close()
        assert source.writer.counters.records == 0  # the second instance had nothing new
        expected = {
            (e.external_id, e.version)
            for e in sims.scenario.expected_versions()
            if e.channel == Channel.LEGAL_STATIONS.value
        }
    versions = await landed(settings, topics)
    assert sorted(versions) == sorted(expected)
