"""The seeded scenario generator: incidents, and every record version each channel serves.

Deterministic per (options, anchor): one ``random.Random(seed)`` drives every
choice, in a fixed order (:meth:`ScenarioGenerator.build`). The parts, one
concern each, are mixins of :class:`~simulators.scenario.state.GeneratorState`:
the station registry (``stations``), incidents and their planned reports
(``incidents``), malformed records (``malformed``), the per-channel record
writers (``writers``) and the petition exports (``exports``); scenario time is
``clock``.

Invariants the ground truth relies on (documented in ``simulators/README.md``):

* updates of a record never change the fields routing and dedupe read
  (identities, employer, category, location, complaint text, report time,
  head-count); they change status, stage, clerk, name typos, results;
* every report of one incident places to the same district (or the same
  triage reason), so a case's district does not depend on arrival order;
* different incidents never share a person, and share an employer only inside
  a collective dispute, whose reports all carry a person identity.
"""

from __future__ import annotations

from datetime import datetime

from simulators.options import SimulatorOptions
from simulators.scenario.clock import CST, LIVE_SPAN_S, cst, iso_cst, plain_cst
from simulators.scenario.exports import BatchExports, encode_csv
from simulators.scenario.incidents import IncidentPlanner
from simulators.scenario.labels import CSV_HEADER, LABELS
from simulators.scenario.malformed import MalformedRecords
from simulators.scenario.model import Scenario
from simulators.scenario.stations import StationPlanner
from simulators.scenario.writers import RecordWriters

__all__ = [
    "CST",
    "CSV_HEADER",
    "LABELS",
    "ScenarioGenerator",
    "cst",
    "encode_csv",
    "generate",
    "iso_cst",
    "plain_cst",
]


class ScenarioGenerator(
    StationPlanner, IncidentPlanner, MalformedRecords, RecordWriters, BatchExports
):
    """Builds a :class:`Scenario` from :class:`SimulatorOptions` and an anchor time."""

    def build(self) -> Scenario:
        """Generate everything, in a fixed order (determinism depends on it)."""
        self._make_stations()
        for i in range(self.options.incidents):
            self._make_incident(f"I{i + 1:05d}")
        self._make_malformed()
        self.placements = {i.incident_id: i.placement for i in self.incidents}
        for report in self.reports:
            self._emit(report)
        batches = self._make_batches()
        self.versions.sort(key=lambda v: (v.at, v.channel.value, v.external_id, v.version))
        return Scenario(
            seed=self.options.seed,
            anchor=self.clock.anchor,
            live_start=self.clock.anchor,
            live_end=self.clock.at(LIVE_SPAN_S),
            incidents=self.incidents,
            versions=self.versions,
            batches=batches,
            stations=self.stations,
            dead_letters=self.dead_letters,
            people=self.people,
        )


def generate(options: SimulatorOptions, anchor: datetime) -> Scenario:
    """The scenario for ``options``; same options and anchor give the same scenario."""
    return ScenarioGenerator(options, anchor).build()
