"""The ground truth: an independent implementation of dispatch.md, checked against the
generator's intent and against the spec's own examples and traps."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulators import SimulatorOptions
from simulators.scenario.generator import generate
from simulators.scenario.model import Scenario
from simulators.truth import OUTSIDE, UNPLACED, Report
from simulators.truth.dedupe import can_merge, components, match_graph, matches
from simulators.truth.gazetteer import evidence
from simulators.truth.normalize import employer_name_key, id_key, phone_key, trigrams

ANCHOR = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TRIAGE = {"outside_jurisdiction": OUTSIDE, "unplaced": UNPLACED}


@pytest.fixture(scope="module", params=[1, 2, 3])
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return generate(SimulatorOptions(seed=request.param, incidents=300), ANCHOR)


def _refs(scenario: Scenario) -> dict[str, tuple[str, str]]:
    return {v.report_key: (v.channel.value, v.external_id) for v in scenario.settled_versions()}


def test_case_partition_is_the_generators_intent(scenario: Scenario) -> None:
    refs = _refs(scenario)
    intended = {
        frozenset(refs[key] for key in group) for i in scenario.incidents for group in i.case_groups
    }
    truth = scenario.truth
    assert truth.partition() == intended
    assert any(len(case) >= 3 for case in intended)


def test_every_report_places_where_its_incident_is(scenario: Scenario) -> None:
    refs = _refs(scenario)
    truth = scenario.truth
    for incident in scenario.incidents:
        want = TRIAGE.get(incident.placement, incident.placement)
        for key in incident.report_keys:
            assert truth.reports[refs[key]].placement == want, (incident, key)
    assert not any(case.order_dependent for case in truth.cases)
    rules = {r.rule.split(":")[0] for r in truth.reports.values()}
    assert {"rule1", "rule2", "rule4"} <= rules


def test_alerts_match_collective_and_mass_incidents(scenario: Scenario) -> None:
    refs = _refs(scenario)
    truth = scenario.truth
    groups = {a.employer_key for a in truth.alerts if a.kind == "group_dispute"}
    collective = {
        employer_name_key(i.employer.name)
        for i in scenario.incidents
        if i.group_dispute and i.employer is not None
    }
    assert groups == collective
    assert all(a.persons >= 5 for a in truth.alerts if a.kind == "group_dispute")
    mass_members = {m for a in truth.alerts if a.kind == "mass_report" for m in a.members}
    for incident in scenario.incidents:
        if incident.kind == "mass":
            assert any(refs[k] in mass_members for k in incident.report_keys), incident


def test_event_types_per_version(scenario: Scenario) -> None:
    truth = scenario.truth
    expected = {(e.channel, e.external_id, e.version) for e in scenario.expected_versions()}
    by_key = {(v.channel, v.external_id, v.version): v for v in truth.versions}
    assert expected <= set(by_key)
    for key in expected:
        v = by_key[key]
        assert v.events
        assert v.events <= {"new_case", "duplicate_report", "case_updated", "case_merged"}
        case = truth.case_of(v.channel, v.external_id)
        if len(case.reports) == 1 and "case_updated" not in v.events:
            assert v.events == {"new_case"}
    appeals = [v for k, v in by_key.items() if k in expected and k[0] == "citizen_app"]
    assert any(v.version != "1" and v.events == {"case_updated"} for v in appeals)
    assert any("case_merged" in v.events for v in truth.versions)
    for v in truth.versions:
        if v.version not in {e[2] for e in expected if e[:2] == (v.channel, v.external_id)}:
            assert not v.events  # not in the settled view
            assert v.events_live


# ---------------------------------------------------------------- gazetteer traps
@pytest.mark.parametrize(
    ("text", "districts"),
    [
        ("深圳市罗湖区宝安南路3044号", {"luohu"}),
        ("布吉路1021号水贝工业区", {"luohu"}),
        ("深圳市盐田区沙头角深盐路", {"yantian"}),
        ("东部华侨城茶溪谷", {"yantian"}),
        ("华侨城创意园", {"nanshan"}),
        ("深圳市龙岗区龙岗大道8288号", {"longgang"}),
        ("民治大道", set()),
        ("石岩街道", {"baoan"}),
        ("石井", {"pingshan"}),
        ("坪地", {"longgang"}),
        ("葵涌街道鹏飞路", {"dapeng"}),
        ("鮜门镇", {"shenshan"}),
        ("龙岗某某物流公司南山分公司", {"longgang", "nanshan"}),
        ("深圳市宝安区福永某某电子厂", {"baoan"}),
        ("前海深港合作区", {"nanshan"}),
        ("南山街道", {"nanshan"}),
    ],
)
def test_gazetteer_handles_the_traps_of_shenzhen_md(text: str, districts: set[str]) -> None:
    assert set(evidence(text).districts) == districts


def test_other_cities_are_outside_but_home_towns_in_text_are_not() -> None:
    assert evidence("东莞市长安镇振安中路88号").outside
    assert not evidence("老家湖南，在厂里干了三年").outside


# ---------------------------------------------------------------- normalisation
def test_normalisation_of_identities_and_employers() -> None:
    assert phone_key("+86 138 1234 5678") == phone_key("86-13812345678") == "13812345678"
    assert phone_key("0755-26881234") == "075526881234"
    assert id_key("11010519491231002x") == "11010519491231002X"
    assert id_key("1234") is None
    same = {
        employer_name_key(n)
        for n in (
            "深圳市KMT电子有限公司",
            "深圳市ＫＭＴ电子有限公司",
            "KMT电子公司",
            "深圳 KMT电子",
            "深圳市KMT电子有限责任公司",
        )
    }
    assert same == {"KMT电子"}
    assert employer_name_key("深圳市宝安区福永鑫鸿电子厂") == employer_name_key(
        "宝安区福永鑫鸿电子厂"
    )


def _report(
    ref: str,
    *,
    day: float = 0,
    phone: str | None = "13800000000",
    id_number: str | None = None,
    employer: str | None = "鑫鸿电子",
    category: str = "wage_arrears",
    text: str = "老板拖欠三个月工资",
) -> Report:
    return Report(
        "citizen_app", ref, ANCHOR + timedelta(days=day), phone, id_number, None, employer,
        category, trigrams(text), 1, "nanshan", "rule1:location",
    )  # fmt: skip


def test_match_rules() -> None:
    a = _report("a")
    assert matches(a, _report("b", day=30))
    assert not matches(a, _report("b", day=30.5))  # more than 30 days apart
    assert not matches(a, _report("b", employer="别家物流"))
    assert not matches(a, _report("b", employer=None))
    assert matches(a, _report("b", category="other"))
    assert not matches(a, _report("b", category="work_injury"))
    assert not matches(a, _report("b", phone="13900000000"))
    anonymous = _report("c", phone=None, day=6.9, text="老板拖欠三个月工资。")
    assert matches(a, anonymous)  # no identity: same employer, 7 days, similar text
    assert not matches(a, _report("c", phone=None, day=7.1))
    assert not matches(a, _report("c", phone=None, text="车间粉尘很大没有口罩"))


def test_components_and_merges() -> None:
    by_phone = _report("p", phone="13800000001")
    by_id = _report("i", phone=None, id_number="11010519491231002X", text="别的话")
    bridge = _report("b", phone="13800000001", id_number="11010519491231002X")
    graph = match_graph([by_phone, by_id, bridge])
    assert components(graph) == [[("citizen_app", "b"), ("citizen_app", "i"), ("citizen_app", "p")]]
    assert can_merge(("citizen_app", "b"), graph)
    assert not can_merge(("citizen_app", "p"), graph)


def test_truth_imports_nothing_from_the_router() -> None:
    code = (
        "import sys, simulators.truth, simulators\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'router'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    package = Path(__file__).resolve().parents[2] / "simulators"
    for path in package.rglob("*.py"):
        assert "import router" not in path.read_text("utf-8")
        assert "from router" not in path.read_text("utf-8")
