"""The daemon's Prometheus metrics, in a registry of its own, gathered at scrape time.

Nothing is counted twice: connector counters come from the sources' own
health, router counters from its stages' status, dispatch counts from the
:class:`DispatchTally`. The collector reads them when ``/metrics`` is scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from router.app import RouterStatus
from unionhub.admin.statustopic import ConnectorState
from unionhub.daemon.supervisor import ConnectorSupervisor
from unionhub.daemon.tally import DispatchTally

RouterStatusSource = Callable[[], RouterStatus | None]


class DaemonCollector(Collector):
    """Yields every metric of the daemon from its parts' current state."""

    def __init__(
        self,
        supervisor: ConnectorSupervisor,
        router_status: RouterStatusSource,
        tally: DispatchTally | None,
    ) -> None:
        self._supervisor = supervisor
        self._router_status = router_status
        self._tally = tally

    def collect(self) -> Iterator[Metric]:
        """The metric families of one scrape."""
        yield from self._connectors()
        yield from self._sinks()
        yield from self._stations()
        yield from self._router()
        yield from self._dispatch()

    def _connectors(self) -> Iterator[Metric]:
        labels = ["connector", "channel"]
        records = CounterMetricFamily(
            "unionhub_connector_records", "Records committed to intake.raw", labels=labels
        )
        dead = CounterMetricFamily(
            "unionhub_connector_dead_letters", "Dead letters written to intake.dlq", labels=labels
        )
        errors = CounterMetricFamily(
            "unionhub_connector_upstream_errors",
            "Failed polls (upstream or Kafka trouble) seen",
            labels=labels,
        )
        aborts = CounterMetricFamily(
            "unionhub_connector_transaction_aborts",
            "Intake transactions that failed",
            labels=labels,
        )
        last = GaugeMetricFamily(
            "unionhub_connector_last_success_timestamp_seconds",
            "Unix time of the last successful poll",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "unionhub_connector_state",
            "1 for the connector's current state",
            labels=[*labels, "state"],
        )
        for status in self._supervisor.statuses():
            values = [status.name, status.channel]
            records.add_metric(values, status.records)
            dead.add_metric(values, status.dead_letters)
            errors.add_metric(values, status.upstream_errors)
            aborts.add_metric(values, float(status.detail.get("failed", 0) or 0))
            if status.last_success_at:
                last.add_metric(values, datetime.fromisoformat(status.last_success_at).timestamp())
            for candidate in ConnectorState:
                state.add_metric([*values, candidate.value], float(candidate is status.state))
        yield from (records, dead, errors, aborts, last, state)

    def _sinks(self) -> Iterator[Metric]:
        """Reply sinks: replies the upstream holds, refusals, lag of cases.state, last error."""
        labels = ["connector", "channel"]
        replies = CounterMetricFamily(
            "unionhub_sink_replies", "Replies the upstream acknowledged", labels=labels
        )
        refused = CounterMetricFamily(
            "unionhub_sink_refused",
            "Replies the upstream refused for good (dead letters on intake.dlq)",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            "unionhub_sink_lag", "Records of cases.state not handled yet", labels=labels
        )
        error = GaugeMetricFamily(
            "unionhub_sink_last_error_info",
            "1 while a sink's last attempt failed; the error (masked) in the label",
            labels=[*labels, "error"],
        )
        for status in self._supervisor.statuses():
            if status.type != "sink":
                continue
            values = [status.name, status.channel]
            replies.add_metric(values, status.records)
            refused.add_metric(values, status.dead_letters)
            if status.lag is not None:
                lag.add_metric(values, float(status.lag))
            if status.last_error:
                error.add_metric([*values, status.last_error[:200]], 1.0)
        yield from (replies, refused, lag, error)

    def _stations(self) -> Iterator[Metric]:
        labels = ["connector", "station"]
        open_ = GaugeMetricFamily(
            "unionhub_station_breaker_open",
            "1 while a station's circuit breaker is open",
            labels=labels,
        )
        failures = GaugeMetricFamily(
            "unionhub_station_consecutive_failures",
            "Failed polls of a station in a row",
            labels=labels,
        )
        errors = CounterMetricFamily(
            "unionhub_station_failed_rounds",
            "Rounds in which a station's poll failed",
            labels=labels,
        )
        last = GaugeMetricFamily(
            "unionhub_station_last_success_timestamp_seconds",
            "Unix time of the end of the last round in which the station's poll succeeded",
            labels=labels,
        )
        pulled = CounterMetricFamily(
            "unionhub_station_records",
            "Records pulled from a station and committed to intake.raw",
            labels=labels,
        )
        for connector, views in sorted(self._supervisor.stations.views.items()):
            for station, view in sorted(views.items()):
                values = [connector, station]
                pulled.add_metric(values, float(view.records))
                open_.add_metric(values, float(view.breaker_open))
                failures.add_metric(values, float(view.consecutive_failures))
                errors.add_metric(values, float(view.failed_rounds))
                if view.last_success_at is not None:
                    last.add_metric(values, view.last_success_at.timestamp())
        yield from (open_, failures, errors, last, pulled)

    def _router(self) -> Iterator[Metric]:
        status = self._router_status()
        ready = GaugeMetricFamily("unionhub_router_ready", "1 when every router stage is ready")
        ready.add_metric([], float(status is not None and status.ready))
        yield ready
        lag = GaugeMetricFamily(
            "unionhub_router_consumer_lag", "Records not yet read", labels=["stage"]
        )
        size = GaugeMetricFamily(
            "unionhub_router_state_size", "Entries of stage state", labels=["stage"]
        )
        counters = {
            "records_in": CounterMetricFamily(
                "unionhub_router_records_in", "Records read", labels=["stage"]
            ),
            "records_out": CounterMetricFamily(
                "unionhub_router_records_out", "Records written", labels=["stage"]
            ),
            "dead_letters": CounterMetricFamily(
                "unionhub_router_dead_letters", "Dead letters to router.dlq", labels=["stage"]
            ),
            "aborts": CounterMetricFamily(
                "unionhub_router_transaction_aborts", "Aborted transactions", labels=["stage"]
            ),
            "punctuations": CounterMetricFamily(
                "unionhub_router_punctuations",
                "Looks at what time made due (SLA alerts, auto-closes), with or without any",
                labels=["stage"],
            ),
        }
        for stage in status.stages if status is not None else ():
            lag.add_metric([stage.stage], float(stage.lag or 0))
            size.add_metric([stage.stage], float(stage.state_size or 0))
            for attr, family in counters.items():
                family.add_metric([stage.stage], float(getattr(stage.counters, attr)))
        yield from (lag, size, *counters.values())

    def _dispatch(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "unionhub_dispatch_events",
            "Dispatch events committed since this daemon started",
            labels=["district", "event_type"],
        )
        if self._tally is not None:
            for (district, event_type), count in sorted(self._tally.counts.items()):
                family.add_metric([district, event_type], float(count))
        yield family


def daemon_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry of this daemon only (not the process-global default one)."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return registry
