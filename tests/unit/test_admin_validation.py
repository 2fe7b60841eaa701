"""Admin building blocks without Kafka: validation, masking, backoff, status records, metrics."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from connectors.base import SourceContext
from connectors.secrets import SecretResolver
from core.kafka.topics import TopicCatalog
from router.app import RouterStatus
from router.runtime import StageStatus
from router.runtime.stats import StageCounters
from unionhub.admin.errors import AdminError
from unionhub.admin.offsets import check_new_offsets
from unionhub.admin.openapi import openapi_document
from unionhub.admin.statustopic import (
    STATUS_STALE_AFTER_S,
    ConnectorState,
    ConnectorStatus,
    WorkerStatus,
    is_fresh,
)
from unionhub.admin.validation import ShapeOnlyResolver, secret_keys, validate_config
from unionhub.configstore import mask_secrets
from unionhub.daemon.metrics import DaemonCollector, daemon_registry
from unionhub.daemon.supervisor import Backoff, ConnectorSupervisor
from unionhub.daemon.tally import DispatchTally

CITIZEN: dict[str, Any] = {
    "name": "citizen",
    "channel": "citizen_app",
    "base_url": "http://upstream.example/citizen",
    "client_id": "unionhub",
    "client_secret": "${env:CITIZEN_SECRET}",
}


def test_a_valid_config_parses_flat_or_nested() -> None:
    flat = validate_config(CITIZEN, ShapeOnlyResolver())
    assert flat.ok
    assert flat.config is not None
    settings = {k: v for k, v in CITIZEN.items() if k not in ("name", "channel")}
    nested = validate_config(
        {"name": "citizen", "channel": "citizen_app", "settings": settings}, ShapeOnlyResolver()
    )
    assert nested.ok


def test_every_problem_is_listed_by_field_without_values() -> None:
    bad = CITIZEN | {"page_size": 0, "base_url": "ftp://x", "extra": True}
    del bad["client_id"]
    outcome = validate_config(bad, ShapeOnlyResolver())
    assert not outcome.ok
    assert outcome.config is None
    assert {p.field for p in outcome.problems} == {"page_size", "base_url", "client_id", "extra"}
    assert all("ftp://x" not in p.reason for p in outcome.problems)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (["not", "a", "mapping"], "config"),
        (CITIZEN | {"channel": "fax"}, "channel"),
        ({k: v for k, v in CITIZEN.items() if k != "channel"}, "channel"),
        (CITIZEN | {"settings": "x"}, "settings"),
        (CITIZEN | {"client_secret": "${env:OOPS"}, "client_secret"),
        (CITIZEN | {"name": "with space"}, "name"),
    ],
)
def test_refusals_name_the_field(raw: object, field: str) -> None:
    outcome = validate_config(raw, ShapeOnlyResolver())
    assert [p.field for p in outcome.problems][:1] == [field]


def test_references_resolve_only_with_the_real_resolver() -> None:
    assert validate_config(CITIZEN, ShapeOnlyResolver()).ok
    missing = validate_config(CITIZEN, SecretResolver({}))
    assert [p.field for p in missing.problems] == ["client_secret"]
    resolved = validate_config(CITIZEN, SecretResolver({"CITIZEN_SECRET": "s3cr3t-value"}))
    assert resolved.config is not None
    assert "s3cr3t-value" in resolved.config.secrets()


def test_every_secret_field_is_masked_for_display() -> None:
    assert secret_keys() == {"client_secret", "api_key", "app_secret", "password", "token"}
    shown = mask_secrets(CITIZEN | {"settings": {"token": "lt-1"}}, secret_keys())
    assert shown["client_secret"] == "********"
    assert shown["settings"]["token"] == "********"
    assert shown["client_id"] == "unionhub"


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=1, cap_s=10)
    assert [backoff.wait_s(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_status_records_round_trip_and_refuse_garbage() -> None:
    status = ConnectorStatus(
        name="c", channel="citizen_app", state=ConnectorState.FAILED, worker_id="w", reason="x"
    )
    assert ConnectorStatus.decode(status.encode()) == status
    worker = WorkerStatus("w", True, 3, 10, ["c"], "2026-11-29T00:00:00+00:00")
    assert WorkerStatus.decode(worker.encode()) == worker
    assert ConnectorStatus.decode(b"not json") is None
    assert ConnectorStatus.decode(worker.encode()) is None
    assert WorkerStatus.decode(b'{"schema": "unionhub.worker-status/1", "x": 1}') is None


def test_new_offsets_must_belong_to_the_connector() -> None:
    assert check_new_offsets("c", {"c": {}, "c/NS-1": {"a": 1}}) == {"c": {}, "c/NS-1": {"a": 1}}
    bads: list[object] = [{"d": {}}, {"c": 3}, [1]]
    for bad in bads:
        with pytest.raises(AdminError) as refused:
            check_new_offsets("c", bad)
        assert refused.value.field.startswith("offsets")


def test_openapi_document_is_valid_yaml_with_responses_everywhere() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                assert operation["responses"], (path, method)


def test_metrics_parse_and_carry_router_and_dispatch_families() -> None:
    supervisor = ConnectorSupervisor(
        SourceContext(bootstrap="127.0.0.1:1", namespace="u."), {}, None, None, "w"
    )
    stage = StageStatus(
        stage="dispatch",
        running=True,
        ready=True,
        broker_reachable=True,
        role="active",
        owned=("x-0",),
        pending=(),
        counters=StageCounters(records_in=5, records_out=4, dead_letters=1, aborts=2),
        state_size=42,
        lag=7,
    )
    tally = DispatchTally("127.0.0.1:1", TopicCatalog("u."), "t")
    tally.counts = Counter({("nanshan", "new_case"): 3, ("triage", "case_updated"): 1})
    collector = DaemonCollector(supervisor, lambda: RouterStatus(True, (stage,)), tally)
    text = generate_latest(daemon_registry(collector)).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("unionhub_router_consumer_lag", (("stage", "dispatch"),))] == 7
    assert samples[("unionhub_router_state_size", (("stage", "dispatch"),))] == 42
    assert samples[("unionhub_router_transaction_aborts_total", (("stage", "dispatch"),))] == 2
    assert samples[("unionhub_router_ready", ())] == 1
    key = ("unionhub_dispatch_events_total", (("district", "nanshan"), ("event_type", "new_case")))
    assert samples[key] == 3


def test_statuses_older_than_the_refresh_horizon_are_stale() -> None:
    now = datetime.now(UTC)
    assert is_fresh(now.isoformat())
    assert not is_fresh((now - timedelta(seconds=STATUS_STALE_AFTER_S + 1)).isoformat())
    assert not is_fresh("not a time")
