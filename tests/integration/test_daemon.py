"""The daemon (``unionhub run``) against simulators and the real broker."""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from simulators import SimulatorOptions, start_simulators
from tests.integration.daemon_harness import TOKEN, RunningDaemon, running_daemon
from tests.kafka_helpers import eventually, read_to_end
from unionhub.admin import AdminService
from unionhub.admin.overview import gather_overview
from unionhub.admin.statustopic import ConnectorState, read_statuses

pytestmark = pytest.mark.integration


async def test_daemon_runs_added_connector_pauses_and_removes_it(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    options = SimulatorOptions(seed=11, incidents=20, speed=1000, fault_rate=0.0, stations=11)
    async with start_simulators(options) as sims, running_daemon(settings, tmp_path) as daemon:
        sims.release_all()
        citizen = dict(sims.connector_configs["citizen_app"]) | {"poll_interval_s": 0.2}
        hotline = dict(sims.connector_configs["hotline_12351"]) | {"poll_interval_s": 0.2}
        secrets = [str(citizen["client_secret"]), str(hotline["app_secret"])]

        status, body = await daemon.call("POST", "/connectors", json=citizen)
        assert status == 201, body

        async def dispatched() -> bool:
            records = await read_to_end(settings.kafka_bootstrap, *topics.dispatch_topics())
            return any(r.headers and (b"citizen_app" in dict(r.headers).values()) for r in records)

        await eventually(dispatched, timeout_s=10)

        async def running() -> bool:
            _, body = await daemon.call("GET", f"/connectors/{citizen['name']}/status")
            return bool(body["connector"]["state"] == "RUNNING")

        await eventually(running, timeout_s=10)

        async def summarised() -> bool:
            overview = await gather_overview(settings)
            (connector,) = overview.connectors
            return (
                connector["state"] == "RUNNING"
                and connector["records"] > 0
                and connector["lag_s"] is not None
                and sum(overview.queues.values()) > 0
                and overview.daemons[0]["ready"]
                and overview.router["state_size"] is not None
                and set(overview.router["lag"]) == {"normalize", "dispatch"}
            )

        await eventually(summarised, timeout_s=15)

        # A second connector serves as the clock: it keeps polling while the first is paused.
        status, body = await daemon.call("POST", "/connectors", json=hotline)
        assert status == 201, body
        status, body = await daemon.call("DELETE", f"/connectors/{citizen['name']}/offsets")
        assert (status, body["field"]) == (409, "target_state")
        status, _ = await daemon.call("PUT", f"/connectors/{citizen['name']}/pause")
        assert status == 202

        async def paused() -> bool:
            _, body = await daemon.call("GET", f"/connectors/{citizen['name']}/status")
            return bool(body["connector"]["state"] == "PAUSED")

        await eventually(paused, timeout_s=10)
        frozen = sims.request_counts()["citizen_app"]
        hotline_then = sims.request_counts().get("hotline_12351", 0)

        async def clock_moved() -> bool:
            return sims.request_counts().get("hotline_12351", 0) >= hotline_then + 10

        await eventually(clock_moved, timeout_s=20)
        assert sims.request_counts()["citizen_app"] == frozen
        status, body = await daemon.call("GET", f"/connectors/{citizen['name']}/offsets")
        assert [o["key"] for o in body["offsets"]] == [citizen["name"]]
        status, body = await daemon.call("DELETE", f"/connectors/{citizen['name']}/offsets")
        assert (status, body["offsets"]) == (200, [])

        status, _ = await daemon.call("PUT", f"/connectors/{citizen['name']}/resume")
        assert status == 202

        async def polling_again() -> bool:
            return sims.request_counts()["citizen_app"] > frozen

        await eventually(polling_again, timeout_s=10)

        status, _ = await daemon.call("POST", f"/connectors/{citizen['name']}/restart")
        assert status == 202

        async def restarted() -> bool:
            _, body = await daemon.call("GET", f"/connectors/{citizen['name']}/status")
            return bool(body["connector"]["restarts"] >= 1)

        await eventually(restarted, timeout_s=10)
        await eventually(running, timeout_s=10)

        status, body = await daemon.call("GET", "/metrics", token=None)
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(body)}
        records: dict[str, float] = {
            s.labels["connector"]: s.value
            for s in families["unionhub_connector_records"].samples
            if s.name.endswith("_total")
        }
        assert records[str(citizen["name"])] > 0
        for name in (
            "unionhub_connector_dead_letters",
            "unionhub_connector_upstream_errors",
            "unionhub_connector_last_success_timestamp_seconds",
            "unionhub_router_consumer_lag",
            "unionhub_router_transaction_aborts",
            "unionhub_router_state_size",
            "unionhub_dispatch_events",
            "unionhub_station_breaker_open",
            "unionhub_station_records",
        ):
            assert name in families, name
        events = [
            s for s in families["unionhub_dispatch_events"].samples if s.name.endswith("_total")
        ]
        assert sum(s.value for s in events) > 0
        assert {s.labels["event_type"] for s in events} <= {
            "new_case",
            "duplicate_report",
            "case_updated",
            "case_merged",
        }

        status, _ = await daemon.call("DELETE", f"/connectors/{citizen['name']}")
        assert status == 204
        status, body = await daemon.call("GET", "/connectors")
        assert body == [hotline["name"]]

        async def removed_stops_polling() -> bool:
            _, body = await daemon.call("GET", "/metrics", token=None)
            return f'connector="{citizen["name"]}"' not in body

        await eventually(removed_stops_polling, timeout_s=10)
        after_removal = sims.request_counts()["citizen_app"]
        hotline_then = sims.request_counts()["hotline_12351"]
        await eventually(clock_moved, timeout_s=20)
        assert sims.request_counts()["citizen_app"] == after_removal

        daemon.process.send_signal(signal.SIGTERM)
        assert await daemon.process.wait() == 0
    log = daemon.log_text()
    for secret in [*secrets, TOKEN]:
        assert secret not in log
    lines = [orjson.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "daemon stopped" for line in lines)


async def test_daemon_keeps_running_when_a_connector_or_a_station_fails(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    options = SimulatorOptions(seed=12, incidents=20, speed=1000, fault_rate=0.0, stations=11)
    async with start_simulators(options) as sims, running_daemon(settings, tmp_path) as daemon:
        sims.release_all()
        always_open = [s for s in sims.scenario.stations if s.opens_at is None and not s.closes_at]
        down, up = always_open[0].station_id, always_open[1].station_id
        sims.set_station_down(down, "http_503")
        legal = dict(sims.connector_configs["legal_stations"]) | {"poll_interval_s": 0.2}
        bad = dict(sims.connector_configs["petition_window"]) | {
            "api_key": "wrong-key-1234567",
            "poll_interval_s": 0.2,
        }
        for config in (bad, legal):
            status, body = await daemon.call("POST", "/connectors", json=config)
            assert status == 201, body

        async def bad_failed_good_runs() -> bool:
            _, bad_status = await daemon.call("GET", f"/connectors/{bad['name']}/status")
            _, good_status = await daemon.call("GET", f"/connectors/{legal['name']}/status")
            return bool(
                bad_status["connector"]["state"] == "FAILED"
                and good_status["connector"]["state"] == "RUNNING"
            )

        await eventually(bad_failed_good_runs, timeout_s=20)
        _, body = await daemon.call("GET", f"/connectors/{bad['name']}/status")
        assert body["connector"]["reason"]
        assert "wrong-key-1234567" not in orjson.dumps(body).decode()

        # Retried with backoff: the restart counter grows while it keeps failing.
        async def retried() -> bool:
            _, body = await daemon.call("GET", f"/connectors/{bad['name']}/status")
            return bool(body["connector"]["restarts"] >= 1)

        await eventually(retried, timeout_s=20)

        def station_samples(text: str, metric: str) -> dict[str, float]:
            return {
                s.labels["station"]: s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
                if s.name == metric and s.labels.get("connector") == legal["name"]
            }

        async def stations_reported() -> bool:
            _, text = await daemon.call("GET", "/metrics", token=None)
            failed = station_samples(text, "unionhub_station_failed_rounds_total")
            last = station_samples(text, "unionhub_station_last_success_timestamp_seconds")
            pulled = station_samples(text, "unionhub_station_records_total")
            return (
                failed.get(down, 0) >= 1
                and up in last
                and down not in last
                and pulled.get(down) == 0
                and sum(pulled.values()) > 0
            )

        await eventually(stations_reported, timeout_s=20)
        status, _ = await daemon.call("GET", "/healthz", token=None)
        assert status == 200


async def test_connectors_stored_before_start_run_and_survive_a_daemon_restart(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    options = SimulatorOptions(seed=13, incidents=5, speed=1000, fault_rate=0.0, stations=11)
    async with start_simulators(options) as sims:
        sims.release_all()
        config = dict(sims.connector_configs["citizen_app"]) | {"poll_interval_s": 0.2}
        name = str(config["name"])
        async with AdminService.open(settings, {}) as service:
            await service.create(config)

        for _ in range(2):
            async with running_daemon(settings, tmp_path) as daemon:
                polled = sims.request_counts().get("citizen_app", 0)

                async def runs_from_the_stored_config(
                    daemon: RunningDaemon = daemon, polled: int = polled
                ) -> bool:
                    _, body = await daemon.call("GET", f"/connectors/{name}/status")
                    return bool(
                        body["connector"]["state"] == "RUNNING"
                        and sims.request_counts().get("citizen_app", 0) > polled
                    )

                await eventually(runs_from_the_stored_config, timeout_s=15)
                _, body = await daemon.call("GET", f"/connectors/{name}/status")
                assert body["connector"]["restarts"] == 0  # started once, not once per report
                daemon.process.send_signal(signal.SIGTERM)
                assert await daemon.process.wait() == 0
            statuses = await read_statuses(settings.kafka_bootstrap, topics.connector_status)
            assert statuses.connectors[name].state is ConnectorState.STOPPED
