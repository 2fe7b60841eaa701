"""Putting the rules together: per report, per version, per case, plus alerts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schemas.channels import Channel
from simulators.truth.alerts import AlertTruth, compute_alerts
from simulators.truth.dedupe import can_merge, components, match_graph
from simulators.truth.reports import Report, read_report

if TYPE_CHECKING:
    from simulators.scenario.model import ExpectedDeadLetter, RecordVersion, Scenario

Ref = tuple[str, str]
FIRST_EVENTS = ("new_case", "duplicate_report", "case_merged")


@dataclass(frozen=True)
class CaseTruth:
    """One case: its reports, and where it may be dispatched.

    ``placements`` holds the placement of every report of the case (a district
    slug, ``triage:outside_jurisdiction`` or ``triage:unplaced``): the case
    goes where its first-arriving report places it, so with more than one
    element the district depends on arrival order (``order_dependent``).
    """

    case_id: str
    reports: tuple[Ref, ...]
    placements: frozenset[str]

    @property
    def order_dependent(self) -> bool:
        """Whether the dispatch topic depends on which report arrives first."""
        return len(self.placements) > 1


@dataclass(frozen=True)
class VersionTruth:
    """What a correct router emits for one record version.

    ``events``: acceptable event types when the connector landed the settled
    view (``expected_versions``); ``events_live``: acceptable when it landed
    whatever a live run let it see (``possible_versions``).
    """

    channel: str
    external_id: str
    version: str
    case_id: str
    placements: frozenset[str]
    events: frozenset[str]
    events_live: frozenset[str]


@dataclass
class GroundTruth:
    """Everything a checker compares a unionhub run against."""

    reports: dict[Ref, Report]
    cases: list[CaseTruth]
    versions: list[VersionTruth]
    alerts: list[AlertTruth]
    dead_letters: list[ExpectedDeadLetter]

    def case_of(self, channel: str, external_id: str) -> CaseTruth:
        """The case a report belongs to."""
        return self._case_index()[(channel, external_id)]

    def partition(self) -> set[frozenset[Ref]]:
        """The final case partition as sets of (channel, external_id)."""
        return {frozenset(c.reports) for c in self.cases}

    def version(self, channel: str, external_id: str, version: str) -> VersionTruth:
        """The truth of one version label."""
        for v in self.versions:
            if (v.channel, v.external_id, v.version) == (channel, external_id, version):
                return v
        raise KeyError((channel, external_id, version))

    def _case_index(self) -> dict[Ref, CaseTruth]:
        return {ref: c for c in self.cases for ref in c.reports}


def _first_versions(versions: list[RecordVersion]) -> dict[Ref, RecordVersion]:
    first: dict[Ref, RecordVersion] = {}
    for v in sorted(versions, key=lambda v: (v.visible_at, v.at)):
        first.setdefault((v.channel.value, v.external_id), v)
    return first


def compute_truth(scenario: Scenario) -> GroundTruth:
    """The ground truth of ``scenario``, computed from the records it serves."""
    from simulators.scenario.views import served_versions, settled_versions

    settled = settled_versions(scenario)
    served = served_versions(scenario)
    stations = {s.station_id: s.district for s in scenario.stations}
    reports = {
        ref: read_report(ref[0], ref[1], v.record, stations.get(v.station_id or ""))
        for ref, v in _first_versions(settled).items()
    }
    graph = match_graph(list(reports.values()))
    cases: list[CaseTruth] = []
    for comp in components(graph):
        first = min(comp, key=lambda ref: (reports[ref].reported_at, ref))
        cases.append(
            CaseTruth(
                case_id=f"{first[0]}:{first[1]}",
                reports=tuple(comp),
                placements=frozenset(reports[ref].placement for ref in comp),
            )
        )
    case_of = {ref: c for c in cases for ref in c.reports}

    def first_events(ref: Ref) -> frozenset[str]:
        if len(case_of[ref].reports) == 1:
            return frozenset({"new_case"})
        merged = {"case_merged"} if can_merge(ref, graph) else set()
        return frozenset({"new_case", "duplicate_report", *merged})

    truths: list[VersionTruth] = []
    labels: dict[Ref, list[RecordVersion]] = defaultdict(list)
    settled_keys = {(v.channel.value, v.external_id, v.version) for v in settled}
    for v in [*settled, *served]:
        ref = (v.channel.value, v.external_id)
        if all(v.version != x.version for x in labels[ref]):
            labels[ref].append(v)
    for ref, versions in labels.items():
        case = case_of[ref]
        firsts = first_events(ref)
        in_settled = [v for v in versions if (*ref, v.version) in settled_keys]
        first_settled = min(in_settled, key=_order) if in_settled else None
        for v in versions:
            if (*ref, v.version) not in settled_keys:
                events: frozenset[str] = frozenset()
            elif v is first_settled:
                events = firsts
            else:
                events = frozenset({"case_updated"})
            log_channel = ref[0] == Channel.CITIZEN_APP.value
            earliest = v is min(versions, key=_order)
            if log_channel and not earliest:
                live = frozenset({"case_updated"})
            else:
                live = firsts | ({"case_updated"} if not earliest else set())
            truths.append(
                VersionTruth(ref[0], ref[1], v.version, case.case_id, case.placements, events, live)
            )
    truths.sort(key=lambda t: (t.channel, t.external_id, t.version))
    return GroundTruth(
        reports=reports,
        cases=cases,
        versions=truths,
        alerts=compute_alerts(list(reports.values())),
        dead_letters=scenario.expected_dead_letters(),
    )


def _order(v: RecordVersion) -> tuple[object, ...]:
    return (v.visible_at, v.at, v.version)
