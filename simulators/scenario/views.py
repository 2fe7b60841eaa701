"""Which record versions a client sees: the settled view and every possible observation."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from schemas.channels import Channel
from simulators.scenario.generator import CST, CSV_HEADER
from simulators.scenario.model import ExpectedVersion, RecordVersion, Scenario

CURRENT_STATE = (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION, Channel.LEGAL_STATIONS)


def _by_record(scenario: Scenario, channel: Channel) -> dict[str, list[RecordVersion]]:
    out: dict[str, list[RecordVersion]] = {}
    for v in scenario.versions:
        if v.channel == channel and v.malformed is None:
            out.setdefault(v.external_id, []).append(v)
    for versions in out.values():
        versions.sort(key=lambda v: v.visible_at)
    return out


def _closed_stations(scenario: Scenario) -> set[str]:
    return {s.station_id for s in scenario.stations if s.closes_at is not None}


def settled_versions(scenario: Scenario) -> list[RecordVersion]:
    """Versions a client reading only after everything is released sees, each once."""
    out = [v for v in scenario.versions if v.channel == Channel.CITIZEN_APP and v.malformed is None]
    closed = _closed_stations(scenario)
    for channel in CURRENT_STATE:
        out.extend(
            versions[-1]
            for versions in _by_record(scenario, channel).values()
            if versions[-1].station_id is None or versions[-1].station_id not in closed
        )
    out.extend(_settled_rows(scenario))
    return out


def _settled_rows(scenario: Scenario) -> list[RecordVersion]:
    first_version = {
        (v.external_id, tuple(v.record.values())): v
        for v in scenario.versions
        if v.channel == Channel.PETITION_WINDOW
    }
    out: list[RecordVersion] = []
    seen: set[tuple[str, ...]] = set()
    for batch in scenario.batches:
        final = batch.revisions[-1]
        for row in final.rows:
            content = tuple(row.cells)
            if row.malformed is not None or content in seen:
                continue
            seen.add(content)
            base = first_version[(row.registration_no, content)]
            label = f"{batch.batch_id}#{final.revision}"
            out.append(
                RecordVersion(
                    base.channel, base.external_id, label, base.at, final.visible_at,
                    dict(zip(CSV_HEADER, row.cells, strict=True)), base.incident_id,
                    base.report_key,
                )
            )  # fmt: skip
    return out


def served_versions(scenario: Scenario) -> list[RecordVersion]:
    """Every version served at some moment after the anchor (superseded ones included)."""
    anchor = scenario.anchor
    out = [v for v in scenario.versions if v.channel == Channel.CITIZEN_APP and v.malformed is None]
    for channel in CURRENT_STATE:
        for versions in _by_record(scenario, channel).values():
            for v, nxt in pairwise(versions):
                if nxt.visible_at > anchor:
                    out.append(v)
            out.append(versions[-1])
    for v in scenario.versions:
        if v.channel != Channel.PETITION_WINDOW:
            continue
        batch = next(b for b in scenario.batches if v.version.startswith(b.batch_id + "#"))
        rev = int(v.version.rpartition("#")[2])
        later = [r for r in batch.revisions if r.revision > rev]
        if not later or later[0].visible_at > anchor:
            out.append(v)
    return out


def possible_versions(scenario: Scenario) -> list[ExpectedVersion]:
    """Labels a live-run connector may land: served versions plus the settled labels."""
    labels = {
        ExpectedVersion(v.channel.value, v.external_id, v.version)
        for v in [*served_versions(scenario), *settled_versions(scenario)]
    }
    return sorted(labels, key=lambda e: (e.channel, e.external_id, e.version))


def local(t: datetime) -> datetime:
    """``t`` as China Standard Time (for messages)."""
    return t.astimezone(CST) if t.tzinfo else t.replace(tzinfo=UTC).astimezone(CST)
