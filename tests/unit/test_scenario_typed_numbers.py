"""The generator writes personal numbers in every form into complaint texts, and names too.

Every form of ``simulators.scenario.typed`` shows up in a generated scenario;
the router's normaliser leaves none of the scenario's numbers, in any form, in
what it outputs, while amounts, dates and order-like ids stay; and the ground
truth places every report where the router does (person names holding a place
name included).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from checker.pii import KnownNumbers, clear_number
from router.normalize.normalizer import Normalizer
from schemas.complaint import NormalizedReport
from schemas.raw import RawEnvelope, StationRef
from simulators import SimulatorOptions
from simulators.scenario import typed
from simulators.scenario.generator import generate
from simulators.scenario.model import RecordVersion, Scenario
from simulators.scenario.people import PLACE_GIVEN

ANCHOR = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
M = r"1[3-9][0-9]"
FW = "[０-９]"
# One pattern per typed form: what the form looks like in a text.
PATTERNS: dict[tuple[str, str], str] = {
    ("mobile", "plain"): rf"(?<![0-9]){M}[0-9]{{8}}(?![0-9])",
    ("mobile", "spaces"): rf"(?<![+0-9] ){M} [0-9]{{4}} [0-9]{{4}}",
    ("mobile", "hyphens"): rf"(?<![0-9]){M}-[0-9]{{4}}-[0-9]{{4}}",
    ("mobile", "dots"): rf"{M}\.[0-9]{{4}}\.[0-9]{{4}}",
    ("mobile", "middle_dots"): rf"{M}·[0-9]{{4}}·[0-9]{{4}}",
    ("mobile", "slashes"): rf"{M}/[0-9]{{4}}/[0-9]{{4}}",
    ("mobile", "odd_groups"): rf"{M}[0-9]-[0-9]{{3}}-[0-9]{{4}}",
    ("mobile", "plus86_spaces"): rf"\+86 {M} [0-9]{{4}} [0-9]{{4}}",
    ("mobile", "plus86"): rf"\+86{M}[0-9]{{8}}",
    ("mobile", "86_hyphen"): rf"(?<![+0-9])86-{M}[0-9]{{8}}",
    ("mobile", "0086"): rf"0086 {M}[0-9]{{8}}",
    ("mobile", "bracket_plus86"): rf"\(\+86\){M}[0-9]{{8}}",
    ("mobile", "full_width"): rf"１[３-９]{FW}{{9}}",
    ("mobile", "full_width_spaces"): rf"１[３-９]{FW}\u3000{FW}{{4}}\u3000{FW}{{4}}",
    ("mobile", "mixed_width"): rf"1[３-９]{FW[:-1]}0-9{FW[-1]}{{9}}",
    ("mobile", "line_break"): rf"{M}[0-9]{{4}}\n[0-9]{{4}}",
    ("mobile", "line_break_spaces"): rf"{M}\n[0-9]{{4}} [0-9]{{4}}",
    ("landline", "hyphen"): r"(?<![（(])0755-[2-9][0-9]{7}",
    ("landline", "brackets"): r"\(0755\)[2-9][0-9]{7}",
    ("landline", "full_brackets"): r"（0755）[2-9][0-9]{7}",
    ("landline", "spaces"): r"0755 [2-9][0-9]{3} [0-9]{4}",
    ("landline", "plus86"): r"\+86 755 [2-9][0-9]{7}",
    ("landline", "full_width"): r"０７５５-[２-９][０-９]{7}",
    ("id", "plain"): r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])",
    ("id", "lower_x"): r"(?<![0-9])[0-9]{17}x",
    ("id", "spaces"): r"[0-9]{6} [0-9]{8} [0-9]{3}[0-9Xx]",
    ("id", "hyphens"): r"[0-9]{6}-[0-9]{8}-[0-9]{3}[0-9Xx]",
    ("id", "full_width"): rf"{FW}{{17}}[０-９Ｘ]",
    ("old_id", "plain"): r"(?<![0-9])[0-9]{15}(?![0-9])",
    ("old_id", "spaces"): r"(?<![0-9])[0-9]{6} [0-9]{6} [0-9]{3}(?![0-9])",
    ("old_id", "hyphens"): r"(?<![0-9-])[0-9]{6}-[0-9]{6}-[0-9]{3}(?![0-9])",
}
KEPT = {
    "amount": r"共欠[0-9]{4,5}元",
    "chinese_date": r"20[0-9]{2}年[0-9]{1,2}月[0-9]{1,2}日",
    "iso_date": r"20[0-9]{2}-[0-9]{2}-[0-9]{2}开始",
    "slash_date": r"20[0-9]{2}/[0-9]{2}/[0-9]{2}",
    "order_id": r"GD12351-[0-9]{8}-[0-9]{6}",
}
FORMS = {
    "mobile": typed.PHONE_FORMS,
    "landline": typed.LANDLINE_FORMS,
    "id": typed.ID_FORMS,
    "old_id": typed.OLD_ID_FORMS,
}
TEXT_FIELDS = ("title", "content", "诉求内容", "XFMD", "summary")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(SimulatorOptions(seed=12, incidents=400), ANCHOR)


def _texts(scenario: Scenario) -> list[str]:
    return [
        v.record[f]
        for v in scenario.versions
        for f in TEXT_FIELDS
        if isinstance(v.record.get(f), str) and v.malformed is None
    ]


def _normalized(scenario: Scenario) -> list[tuple[RecordVersion, NormalizedReport]]:
    normalizer = Normalizer(b"test-key")
    stations = {s.station_id: s for s in scenario.stations}
    out = []
    for v in scenario.settled_versions():
        ref = None
        if v.station_id:
            station = stations[v.station_id]
            ref = StationRef(
                station_id=station.station_id, name=station.name, district=station.district
            )
        envelope = RawEnvelope(
            channel=v.channel, connector="c", external_id=v.external_id, version=v.version,
            fetched_at=v.visible_at, source="test", station=ref,
            record=v.record,
        )  # fmt: skip
        out.append((v, normalizer.normalize(envelope, "test-0-0")))
    return out


def test_every_typed_form_has_a_pattern() -> None:
    names = {(kind, name) for kind, forms in FORMS.items() for name, _ in forms}
    assert names == set(PATTERNS)


@pytest.mark.parametrize(("kind", "form"), sorted(PATTERNS))
def test_every_form_of_a_personal_number_is_written_into_some_text(
    scenario: Scenario, kind: str, form: str
) -> None:
    pattern = re.compile(PATTERNS[(kind, form)])
    assert any(pattern.search(text) for text in _texts(scenario)), (kind, form)


@pytest.mark.parametrize("kind", sorted(KEPT))
def test_numbers_that_are_not_personal_are_written_too(scenario: Scenario, kind: str) -> None:
    pattern = re.compile(KEPT[kind])
    assert any(pattern.search(text) for text in _texts(scenario)), kind


def test_the_typed_numbers_are_the_complainants_own(scenario: Scenario) -> None:
    known = KnownNumbers.of(scenario.personal_numbers())
    texts = _texts(scenario)
    assert sum(1 for text in texts if known.found(text)) > len(texts) // 5


def test_the_router_masks_every_typed_number_and_keeps_the_rest(scenario: Scenario) -> None:
    known = KnownNumbers.of(scenario.personal_numbers())
    kept = {kind: re.compile(pattern) for kind, pattern in KEPT.items()}
    seen_kept: set[str] = set()
    for version, report in _normalized(scenario):
        value = report.to_json().decode()
        assert not known.found(value), (version.channel, version.external_id)
        assert not clear_number(value), (version.channel, version.external_id)
        seen_kept |= {kind for kind, pattern in kept.items() if pattern.search(report.summary)}
    assert seen_kept == set(KEPT)


def test_names_holding_a_place_are_written_and_the_truth_places_like_the_router(
    scenario: Scenario,
) -> None:
    introduced = [
        text for text in _texts(scenario) if re.search(r"我叫[\u4e00-\u9fff]{2,4}，", text)
    ]
    trapped = [t for t in introduced if any(f"我叫{t[2]}{place}" in t for place in PLACE_GIVEN)]
    assert trapped, "some complainants called 李南山 introduce themselves"
    truth = scenario.truth.reports
    for version, report in _normalized(scenario):
        expected = truth[(version.channel.value, version.external_id)].placement
        triage = report.placement.triage_reason
        placed = report.placement.district or f"triage:{triage}"
        assert placed == expected, (version.external_id, report.placement.routing_reason)
