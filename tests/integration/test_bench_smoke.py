"""A tiny run of every part of ``make bench``, so the benchmark cannot rot.

Figures are printed, never asserted (no timed asserts); what is asserted is
that each part runs to its end and that the Quix Streams peer produced the
same dispatch output as unionhub's router over the same records.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.ceiling import ceiling
from benchmarks.compare import DispatchOutput, compare
from benchmarks.connector_rates import connector_rates
from benchmarks.data import RawRecord, scenario_records
from benchmarks.latency import latency
from benchmarks.memory import memory_and_restore
from benchmarks.pipeline import run_pipeline
from benchmarks.run import Results, table
from schemas.channels import Channel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def records() -> list[RawRecord]:
    """A few hundred raw records of a seeded scenario."""
    return scenario_records(300)


def test_scenario_records_cover_every_channel_with_distinct_versions(
    records: list[RawRecord],
) -> None:
    assert len(records) == 300
    assert len({r.channel for r in records}) == 5
    assert len({r.ref for r in records}) == 300


@pytest.mark.parametrize(
    "client", ["aiokafka", "confluent-kafka", "aiokafka-per-partition", "aiokafka-two-hop"]
)
async def test_ceiling_moves_every_record(
    kafka_bootstrap: str, records: list[RawRecord], client: str
) -> None:
    rate = await ceiling(client, kafka_bootstrap, records)
    assert rate > 0


async def test_router_and_quix_peer_produce_the_same_dispatch_output(
    kafka_bootstrap: str, records: list[RawRecord]
) -> None:
    ours = await run_pipeline("unionhub", kafka_bootstrap, records, keep_output=True)
    peer = await run_pipeline("quix", kafka_bootstrap, records, keep_output=True)
    assert ours.output is not None
    assert peer.output is not None
    result = compare(ours.output, peer.output)
    assert result.events[0] > 0
    assert result.canonical_equal, result
    results = Results(command="smoke", records=len(records))
    results.runs = {"unionhub": [ours], "quix": [peer]}
    results.comparison = result
    print(table(results))


async def test_latency_sees_the_events_of_the_offered_records(
    kafka_bootstrap: str, records: list[RawRecord]
) -> None:
    result = await latency(kafka_bootstrap, records, rate=100, seconds=2)
    assert result.sent == 200
    assert result.measured > 0
    assert result.p50_ms <= result.p99_ms <= result.max_ms


async def test_memory_run_restores_the_state_and_answers(
    kafka_bootstrap: str, records: list[RawRecord]
) -> None:
    result = await memory_and_restore(kafka_bootstrap, records, cases=500)
    assert result.cases == 500
    assert result.rss_mb > 0
    assert result.ready_s <= result.restore_s


async def test_every_connector_writes_records_against_the_simulators(kafka_bootstrap: str) -> None:
    rates = await connector_rates(kafka_bootstrap, incidents=100)
    assert sorted(rate.channel for rate in rates) == sorted(c.value for c in Channel)
    assert all(rate.records > 0 for rate in rates), rates


def _event(case_id: str, kind: str, ext: str, merged: list[str] | None = None) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "event_type": kind,
        "merged_case_ids": merged or [],
        "report": {"channel": "citizen_app", "external_id": ext, "version": "1"},
    }


def test_compare_tells_order_effects_from_different_work() -> None:
    # Run a saw report A first, run b saw B first: other case ids and first event
    # types, same final case, so the same work.
    a = DispatchOutput(
        [
            ("nanshan", _event("case-a", "new_case", "A")),
            ("nanshan", _event("case-a", "duplicate_report", "B")),
        ]
    )
    b = DispatchOutput(
        [
            ("nanshan", _event("case-b", "new_case", "B")),
            ("nanshan", _event("case-b", "duplicate_report", "A")),
        ]
    )
    same = compare(a, b)
    assert not same.exact_equal
    assert same.canonical_equal
    # Two separate cases are different work from one case of two reports.
    c = DispatchOutput(
        [
            ("nanshan", _event("case-a", "new_case", "A")),
            ("nanshan", _event("case-b", "new_case", "B")),
        ]
    )
    assert not compare(a, c).canonical_equal
    # A merge joins the cases it names.
    d = DispatchOutput(
        [
            ("nanshan", _event("case-a", "new_case", "A")),
            ("nanshan", _event("case-c", "new_case", "C")),
            ("nanshan", _event("case-a", "case_merged", "B", ["case-c"])),
        ]
    )
    e = DispatchOutput(
        [
            ("nanshan", _event("case-c", "new_case", "C")),
            ("nanshan", _event("case-c", "duplicate_report", "B")),
            ("nanshan", _event("case-c", "duplicate_report", "A")),
        ]
    )
    assert compare(d, e).canonical_equal
