"""The seeded generator: deterministic, realistic, and covering every case the issue lists."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from schemas.channels import Channel
from simulators import SimulatorOptions
from simulators.scenario.employers import EmployerNames, has_place_word, name_variant
from simulators.scenario.generator import LABELS, encode_csv, generate
from simulators.scenario.ids import is_valid_id_number, is_valid_uscc
from simulators.scenario.model import Scenario

ANCHOR = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(SimulatorOptions(seed=42, incidents=400), ANCHOR)


def _records(scenario: Scenario, channel: Channel) -> list[dict[str, object]]:
    return [v.record for v in scenario.versions if v.channel == channel and not v.malformed]


def test_same_seed_same_scenario_other_seed_other_scenario() -> None:
    a = generate(SimulatorOptions(seed=5, incidents=120), ANCHOR)
    b = generate(SimulatorOptions(seed=5, incidents=120), ANCHOR)
    c = generate(SimulatorOptions(seed=6, incidents=120), ANCHOR)
    assert [(v.external_id, v.version, v.record) for v in a.versions] == [
        (v.external_id, v.version, v.record) for v in b.versions
    ]
    assert [encode_csv(r.rows) for x in a.batches for r in x.revisions] == [
        encode_csv(r.rows) for x in b.batches for r in x.revisions
    ]
    assert [v.record for v in a.versions] != [v.record for v in c.versions]


def test_identities_are_valid_and_names_chinese(scenario: Scenario) -> None:
    appeals = _records(scenario, Channel.CITIZEN_APP)
    ids = [a["appellant"]["id_no"] for a in appeals if a["appellant"]["id_no"]]  # type: ignore[index]
    assert ids
    assert all(is_valid_id_number(i.upper()) for i in ids)
    codes = [a["subject"]["uscc"] for a in appeals if a["subject"]["uscc"]]  # type: ignore[index]
    assert codes
    assert all(is_valid_uscc(c) for c in codes)
    names = [a["appellant"]["name"] for a in appeals]  # type: ignore[index]
    assert all(CHINESE_NAME.match(n) for n in names)
    orders = _records(scenario, Channel.HOTLINE_12351)
    assert any(o["caller_name"] == "" for o in orders)  # anonymous callers
    assert any(str(o["caller_phone"]).startswith("0755-") for o in orders)  # landlines


def test_every_channel_uses_its_own_vocabulary(scenario: Scenario) -> None:
    fields = {
        Channel.CITIZEN_APP: "category_code",
        Channel.PETITION_WINDOW: "诉求类别",
        Channel.HOTLINE_12351: "order_type",
        Channel.PROVINCIAL_PETITION: "NRFL",
        Channel.LEGAL_STATIONS: "matter",
    }
    for channel, name in fields.items():
        allowed = {label for labels in LABELS[channel].values() for label in labels}
        used = {str(r[name]) for r in _records(scenario, channel)}
        assert used <= allowed
        assert len(used) >= 5, channel


def test_incident_kinds_and_placements_all_occur(scenario: Scenario) -> None:
    kinds = Counter(i.kind for i in scenario.incidents)
    assert {"single", "collective", "mass", "consultation"} <= set(kinds)
    placements = Counter(i.placement for i in scenario.incidents)
    assert {"outside_jurisdiction", "unplaced"} <= set(placements)
    assert len(set(placements) - {"outside_jurisdiction", "unplaced"}) == 11
    multi_channel = [
        i
        for i in scenario.incidents
        if len({v.channel for v in scenario.versions if v.incident_id == i.incident_id}) > 1
    ]
    assert len(multi_channel) > 20
    split = [i for i in scenario.incidents if len(i.case_groups) > 1]
    assert split  # phone on one channel, ID number on another, nothing linking them


def test_employer_names_vary_but_cores_hold_no_place(scenario: Scenario) -> None:
    import random

    names = EmployerNames(random.Random(1))
    cores = [names.core() for _ in range(300)]
    assert len(set(cores)) == 300
    assert not any(has_place_word(c) for c in cores)
    variants = {name_variant("深圳市KMT电子有限公司", random.Random(i)) for i in range(200)}
    assert "ＫＭＴ" in "".join(variants)  # full-width
    assert any(not v.startswith("深圳") for v in variants)
    assert any(not v.endswith("有限公司") for v in variants)


def test_updates_repeats_and_malformed_records(scenario: Scenario) -> None:
    per_id = Counter((v.channel, v.external_id) for v in scenario.versions)
    for channel in Channel:
        if channel != Channel.PETITION_WINDOW:
            assert any(n > 1 for (c, _), n in per_id.items() if c == channel), channel
    # Half a day of backlog: hourly batches of several rows each.
    dense = generate(SimulatorOptions(seed=42, incidents=400, backlog_days=0.5), ANCHOR)
    revised = [b for b in dense.batches if len(b.revisions) > 1]
    assert revised
    unchanged = 0
    for batch in revised:
        first, second = batch.revisions
        same = sum(a.cells == b.cells for a, b in zip(first.rows, second.rows, strict=True))
        assert 1 <= len(first.rows) - same <= 2  # a clerk corrects one or two rows
        unchanged += same
    assert unchanged > 0  # the corrected batch repeats the other rows byte for byte
    kinds = Counter((d.channel, d.kind) for d in scenario.expected_dead_letters())
    assert set(kinds) == {
        ("petition_window", "csv_bad_encoding"),
        ("petition_window", "csv_wrong_cell_count"),
        ("petition_window", "csv_impossible_date"),
        ("citizen_app", "invalid_version"),
        ("provincial_petition", "invalid_version"),
        ("legal_stations", "invalid_timestamp"),
    }


def test_csv_rows_encode_to_gbk_except_the_broken_ones(scenario: Scenario) -> None:
    for batch in scenario.batches:
        for revision in batch.revisions:
            data = encode_csv(revision.rows)
            assert data.endswith(b"\r\n")
            broken = any(r.malformed == "csv_bad_encoding" for r in revision.rows)
            try:
                data.decode("gbk")
                decodes = True
            except UnicodeDecodeError:
                decodes = False
            assert decodes is not broken


def test_live_fraction_and_backlog(scenario: Scenario) -> None:
    live = [v for v in scenario.versions if v.visible_at > scenario.anchor]
    backlog = [v for v in scenario.versions if v.visible_at <= scenario.anchor]
    assert live
    assert backlog
    assert 0.15 < len(live) / len(scenario.versions) < 0.5
    assert all(v.at >= scenario.anchor - timedelta(days=8) for v in backlog)
    assert all(v.at <= scenario.live_end for v in live)
    none_live = generate(SimulatorOptions(seed=42, incidents=50, live_fraction=0), ANCHOR)
    starts: dict[str, datetime] = {}
    for v in none_live.versions:
        starts[v.incident_id] = min(starts.get(v.incident_id, v.at), v.at)
    assert all(t < none_live.anchor for t in starts.values())


def test_expected_versions_are_unique_and_within_possible(scenario: Scenario) -> None:
    expected = scenario.expected_versions()
    assert len(expected) == len(set(expected))
    assert set(expected) <= set(scenario.possible_versions())
    labels = {e.version for e in expected if e.channel == "petition_window"}
    assert all(re.match(r"^\d{8}-\d{2}#\d+$", label) for label in labels)
