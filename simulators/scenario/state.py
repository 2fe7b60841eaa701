"""What the generator builds up, and the helpers every part of it shares.

One ``random.Random(seed)`` drives every choice, in a fixed order: the parts
(stations, incidents, malformed records, channel records, petition exports)
are mixins of one :class:`GeneratorState` and draw from the same generator.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.channels import Channel
from simulators.options import SimulatorOptions
from simulators.scenario import employers, people
from simulators.scenario.clock import LIVE_SPAN_S, Clock, cst
from simulators.scenario.model import (
    CsvRow,
    ExpectedDeadLetter,
    Incident,
    Person,
    RecordVersion,
    Station,
)


@dataclass
class Identity:
    """Which identity fields one report carries."""

    phone: str | None  # as written
    phone_key: str | None  # the generator's own notion of the number
    id_number: str | None
    id_key: str | None
    name: str


@dataclass
class PlannedReport:
    """One planned report of an incident, before it becomes channel records."""

    key: str
    channel: Channel
    s: int  # scenario seconds of the report
    person: Person
    ident: Identity
    employer_written: str | None
    employer_uscc: str | None
    employer_address: str | None
    category_label: str
    title: str
    content: str
    people_involved: int
    loc: dict[str, Any] = field(default_factory=dict)  # channel-specific location choices
    text_from: str | None = None  # key of the report whose text this one copies


class GeneratorState:
    """The scenario under construction, and the time and numbering helpers."""

    def __init__(self, options: SimulatorOptions, anchor: datetime) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.clock = Clock(anchor.astimezone(UTC).replace(microsecond=0), options.speed)
        self.backlog_s = int(options.backlog_days * 86400)
        self.names = employers.EmployerNames(self.rng)
        self.incidents: list[Incident] = []
        self.reports: list[PlannedReport] = []
        self.report_incident: dict[str, str] = {}
        self.versions: list[RecordVersion] = []
        self.dead_letters: list[ExpectedDeadLetter] = []
        self.stations: list[Station] = []
        self.petition_rows: list[tuple[datetime, CsvRow, str]] = []  # (reg time, row, incident)
        self.seq: dict[str, int] = defaultdict(int)
        self.station_seq: dict[str, int] = defaultdict(int)
        self.placements: dict[str, str] = {}
        self.by_incident: dict[str, list[PlannedReport]] = {}
        self.people: list[Person] = []  # everyone the scenario made up (the leak scan's terms)

    def _person(self) -> Person:
        """A new complainant, remembered in :attr:`people`."""
        person = people.make_person(self.rng)
        self.people.append(person)
        return person

    def _start_s(self) -> int:
        if self.rng.random() < self.options.live_fraction:
            return self.rng.randrange(0, LIVE_SPAN_S - 600)
        return -self.rng.randrange(60, self.backlog_s)

    def _later(self, s: int, backlog_max: int, live_max: int = 900) -> int:
        """A time after ``s``: up to ``backlog_max`` s in the backlog, minutes when live."""
        if s < 0:
            return s + self.rng.randrange(60, backlog_max)
        return s + self.rng.randrange(30, live_max)

    def _report_s(self, s0: int, backlog_max: int, live_max: int = 900) -> int:
        """A follow-up report's time: after ``s0``, early enough for its first version."""
        return min(self._later(s0, backlog_max, live_max), LIVE_SPAN_S - 700)

    def _next(self, prefix: str) -> int:
        self.seq[prefix] += 1
        return self.seq[prefix]

    def _live_ok(self, s: int) -> bool:
        return s < LIVE_SPAN_S

    def _progression(
        self, s: int, steps: tuple[str, ...], stop_p: float, backlog_gap_s: int
    ) -> Iterator[tuple[int, str, datetime]]:
        """(index, step, time) of a record's successive statuses, at strictly rising seconds.

        Each step after the first happens with probability ``1 - stop_p``, later by
        up to ``backlog_gap_s`` (minutes when live), and only while the scenario lasts.
        """
        last: datetime | None = None
        for i, step in enumerate(steps):
            if i > 0:
                if self.rng.random() < stop_p:
                    return
                s = self._later(s, backlog_gap_s)
                if not self._live_ok(s):
                    return
            t = self.clock.at(s)
            if last is not None and t <= last:
                t = last + timedelta(seconds=1)
            last = t
            yield i, step, t

    def _station_for(self, slug: str | None, t: datetime) -> Station:
        ok = [
            st
            for st in self.stations
            if st.closes_at is None
            and (st.opens_at is None or st.opens_at <= t)
            and (slug is None or st.slug == slug)
        ]
        return self.rng.choice(ok or [st for st in self.stations if st.closes_at is None])

    def _case_id(self, station: Station, t: datetime) -> str:
        return f"{station.station_id}-{cst(t):%Y}-{self._next(station.station_id):04d}"
