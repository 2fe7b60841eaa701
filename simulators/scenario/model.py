"""What a generated scenario is: incidents (the generator's intent) and the records it serves.

Times are UTC-aware. Each :class:`RecordVersion` is one version of one upstream
record as its channel serves it (``record``), with ``visible_at``: the wall-clock
moment the upstream system starts serving it. Petition-window rows also belong
to :class:`Batch` revisions, which is what that channel actually serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from schemas.channels import Channel

if TYPE_CHECKING:
    from simulators.truth import GroundTruth


@dataclass(frozen=True)
class ExpectedVersion:
    """One record version a correct connector lands in ``intake.raw`` exactly once."""

    channel: str
    external_id: str
    version: str


@dataclass(frozen=True)
class ExpectedDeadLetter:
    """A malformed upstream record that must become a dead letter.

    ``external_id`` is the id as written in the record; a connector that cannot
    read it (bad bytes) may leave it null. ``kind`` says why it is malformed;
    ``source`` locates it (batch id, station id, ...).
    """

    channel: str
    external_id: str | None
    kind: str
    source: str


@dataclass(frozen=True)
class Person:
    """A complainant: name, mobile, resident ID number and maybe a landline."""

    name: str
    mobile: str
    id_number: str
    landline: str | None


@dataclass(frozen=True)
class Employer:
    """An employer as registered; reports write its name in variants."""

    name: str
    uscc: str
    address: str | None
    district: str | None  # slug the address (or name) places it in, None outside/unplaced


@dataclass(frozen=True)
class RecordVersion:
    """One version of one upstream record, exactly as its channel serves it.

    ``at`` is the channel's own change time (the ordering key of its API);
    ``record`` is the JSON object (citizen_app, hotline, legal_stations), the
    header -> cell dict of a CSV row, or the element dict of a petition.
    ``malformed`` names the dead-letter kind when the record must be refused.
    """

    channel: Channel
    external_id: str
    version: str
    at: datetime
    visible_at: datetime
    record: dict[str, Any]
    incident_id: str
    report_key: str  # generator's id of the report this is a version of
    malformed: str | None = None
    station_id: str | None = None


@dataclass
class CsvRow:
    """One petition-window row: its cells, or raw bytes standing in for a broken row."""

    registration_no: str
    cells: list[str]
    malformed: str | None = None
    raw_bytes: bytes | None = None  # replaces the encoded row (bad GBK) when set


@dataclass
class BatchRevision:
    """One revision of an hourly export; ``visible_at`` is when it is published."""

    revision: int
    created_at: datetime
    visible_at: datetime
    rows: list[CsvRow]


@dataclass
class Batch:
    """An hourly petition-window export with its revisions, oldest first."""

    batch_id: str
    revisions: list[BatchRevision]


@dataclass(frozen=True)
class Station:
    """A legal-service station of the registry; ``opens_at``/``closes_at`` bound its listing."""

    station_id: str
    name: str
    district: str  # district name as the registry writes it, e.g. 南山区
    slug: str
    opens_at: datetime | None = None  # None: listed from the start
    closes_at: datetime | None = None  # None: never closes


@dataclass
class Incident:
    """The generator's intent: one real-world dispute and the reports it produced.

    ``case_groups`` partitions ``report_keys`` into what should be one case each;
    ``placement`` is a district slug, ``outside_jurisdiction`` or ``unplaced``.
    """

    incident_id: str
    kind: str  # single, collective, mass, consultation, malformed
    category: str
    placement: str
    employer: Employer | None
    report_keys: list[str] = field(default_factory=list)
    case_groups: list[list[str]] = field(default_factory=list)
    group_dispute: bool = False


@dataclass
class Scenario:
    """A generated scenario: incidents plus every version each channel will serve."""

    seed: int
    anchor: datetime
    live_start: datetime
    live_end: datetime
    incidents: list[Incident]
    versions: list[RecordVersion]
    batches: list[Batch]
    stations: list[Station]
    dead_letters: list[ExpectedDeadLetter]
    people: list[Person] = field(default_factory=list)  # every complainant made up
    _truth: GroundTruth | None = field(default=None, repr=False)

    def expected_versions(self) -> list[ExpectedVersion]:
        """Every version a correct connector lands exactly once, reading after ``release_all``.

        That "settled" view holds every ``citizen_app`` change (its feed is a
        change log) and the final version of every record of the other channels
        (they serve current state). A petition-window row is labelled with the
        ``<batch_id>#<revision>`` of the final revision that serves it. Malformed
        records are excluded (see :meth:`expected_dead_letters`).
        """
        return [
            ExpectedVersion(v.channel.value, v.external_id, v.version)
            for v in self.settled_versions()
        ]

    def settled_versions(self) -> list[RecordVersion]:
        """The record versions behind :meth:`expected_versions`."""
        from simulators.scenario.views import settled_versions

        return settled_versions(self)

    def possible_versions(self) -> list[ExpectedVersion]:
        """Every label a connector may land in a live run (superset of the settled view).

        Superseded versions of current-state channels are served only until the
        next one is released, so a connector lands them only if it polled then;
        a petition row of a revised batch keeps an earlier revision's label if
        the connector read that revision first.
        """
        from simulators.scenario.views import possible_versions

        return possible_versions(self)

    def expected_dead_letters(self) -> list[ExpectedDeadLetter]:
        """Every malformed record that must become a dead letter (with its reason kind)."""
        return list(self.dead_letters)

    def personal_numbers(self) -> list[str]:
        """Every mobile, landline and ID number of the scenario's people, as generated."""
        numbers = {n for p in self.people for n in (p.mobile, p.landline, p.id_number) if n}
        return sorted(numbers)

    def served_changed(self) -> None:
        """The records served changed at run time (a reply's version): recompute the truth."""
        self._truth = None

    @property
    def truth(self) -> GroundTruth:
        """What a correct unionhub outputs for this scenario (computed once, from the records)."""
        if self._truth is None:
            from simulators.truth import compute_truth

            self._truth = compute_truth(self)
        return self._truth
