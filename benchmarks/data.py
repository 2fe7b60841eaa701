"""The benchmark's input: raw envelopes of a generated scenario, and loading them into Kafka.

The records are the simulators' settled view of a seeded scenario (all five
channels, its real share of duplicate reports and later versions), wrapped in
the ``RawEnvelope`` a connector writes, keyed and headed as the intake writer does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.kafka.clients import confluent_producer
from core.kafka.topics import TopicCatalog
from schemas.channels import Channel
from schemas.raw import RAW_SCHEMA, RawEnvelope, StationRef
from simulators.options import SimulatorOptions
from simulators.scenario.generator import generate
from simulators.scenario.model import RecordVersion, Station

# Settled versions per generated incident (measured: about 2.8); generate a little more.
_VERSIONS_PER_INCIDENT = 2.6
ANCHOR = datetime(2026, 1, 5, tzinfo=UTC)
CHUNK_INCIDENTS = 10_000
CHUNK_GAP = timedelta(days=60)


@dataclass(frozen=True)
class RawRecord:
    """One ``intake.raw`` message: channel, key, value and headers as a connector writes them."""

    channel: Channel
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def ref(self) -> tuple[str, str, str]:
        """(channel, external_id, version) of the envelope, as dispatch events name it."""
        envelope = RawEnvelope.model_validate_json(self.value)
        return (str(envelope.channel), envelope.external_id, envelope.version)


def scenario_records(count: int, seed: int = 1) -> list[RawRecord]:
    """``count`` raw records of seeded scenarios, in upstream time order within each.

    One scenario can only be so large (its employer names run out near 30,000
    incidents), so a large input is several scenarios of ``CHUNK_INCIDENTS``,
    each with its own seed and an anchor ``CHUNK_GAP`` after the previous one:
    their ids (which hold the report date) cannot collide and their reports are
    too far apart in time to be one case. A record whose (channel, id) an
    earlier chunk has already used is left out all the same.
    """
    records: list[RawRecord] = []
    used: set[tuple[Channel, str]] = set()
    chunk = 0
    while len(records) < count:
        wanted = count - len(records)
        incidents = min(math.ceil(wanted / _VERSIONS_PER_INCIDENT), CHUNK_INCIDENTS)
        options = SimulatorOptions(seed=seed + chunk, incidents=incidents, live_fraction=0.0)
        scenario = generate(options, ANCHOR + chunk * CHUNK_GAP)
        chunk += 1
        versions = sorted(scenario.settled_versions(), key=lambda v: v.at)
        stations = {s.station_id: s for s in scenario.stations}
        fresh = [v for v in versions if (v.channel, v.external_id) not in used]
        used.update((v.channel, v.external_id) for v in fresh)
        records += [_raw_record(v, stations) for v in fresh[:wanted]]
    return records


def _raw_record(v: RecordVersion, stations: dict[str, Station]) -> RawRecord:
    station = stations.get(v.station_id) if v.station_id else None
    envelope = RawEnvelope(
        channel=v.channel,
        connector=f"{v.channel}-bench",
        external_id=v.external_id,
        version=v.version,
        fetched_at=v.visible_at,
        source=f"bench:{v.channel}",
        station=(
            StationRef(station_id=station.station_id, name=station.name, district=station.district)
            if station is not None
            else None
        ),
        record=v.record,
    )
    return RawRecord(
        channel=v.channel,
        key=v.external_id.encode(),
        value=envelope.to_json(),
        headers=(("schema", RAW_SCHEMA.encode()), ("channel", str(v.channel).encode())),
    )


def with_fetched_now(record: RawRecord, now: datetime) -> RawRecord:
    """``record`` as fetched at ``now`` (the latency run writes records as they are 'fetched')."""
    envelope = RawEnvelope.model_validate_json(record.value)
    fresh = envelope.model_copy(update={"fetched_at": now})
    return RawRecord(record.channel, record.key, fresh.to_json(), record.headers)


def preload(bootstrap: str, catalog: TopicCatalog, records: list[RawRecord], tx_id: str) -> None:
    """Write ``records`` to their raw topics, committed (transactions of 5,000), blocking."""
    producer = confluent_producer(
        bootstrap,
        {
            "transactional.id": tx_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "partitioner": "murmur2_random",  # the Java (and aiokafka) key -> partition mapping
        },
    )
    producer.init_transactions(30)
    for start in range(0, len(records), 5000):
        producer.begin_transaction()
        for record in records[start : start + 5000]:
            while True:
                try:
                    producer.produce(
                        catalog.raw(record.channel),
                        value=record.value,
                        key=record.key,
                        headers=list(record.headers),
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        producer.commit_transaction(60)
    producer.flush(60)
