"""Dedupe: the match rules of dispatch.md, connected components, merges and versions."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from router.dispatch.engine import DedupeEngine, OutcomeKind
from router.dispatch.matching import matches
from router.dispatch.state.keys import report_key
from schemas.complaint import NormalizedReport
from tests.unit.router_builders import T0, id_number, mobile, report, uscc

TEXT = "公司拖欠我们三个月工资，老板失联，工地已经停工，请求帮助讨薪"


def engine_with(*reports: NormalizedReport) -> tuple[DedupeEngine, list[OutcomeKind]]:
    engine = DedupeEngine()
    kinds = [engine.observe(r).kind for r in reports]
    return engine, kinds


def case(engine: DedupeEngine, external_id: str) -> str | None:
    return engine.case_of(report_key("citizen_app", external_id))


# --- the person rule -----------------------------------------------------------------


def test_same_phone_same_employer_same_category_is_one_case() -> None:
    a = report(appeal_id="A", phone=mobile(1))
    b = report(appeal_id="B", phone="+86 " + mobile(1), at=T0 + timedelta(days=3))
    engine, kinds = engine_with(a, b)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.DUPLICATE_REPORT]
    assert case(engine, "A") == case(engine, "B")


def test_phone_links_a_b_and_id_links_b_c_into_one_case() -> None:
    a = report(appeal_id="A", phone=mobile(1))
    b = report(appeal_id="B", phone=mobile(1), id_no=id_number(2))
    c = report(appeal_id="C", phone=mobile(9), id_no=id_number(2))
    engine, _ = engine_with(a, b, c)
    assert case(engine, "A") == case(engine, "B") == case(engine, "C")


def test_same_person_with_another_employer_is_not_one_case() -> None:
    a = report(appeal_id="A", phone=mobile(1), employer="深圳市甲公司")
    b = report(appeal_id="B", phone=mobile(1), employer="深圳市乙公司")
    _, kinds = engine_with(a, b)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.NEW_CASE]


def test_two_different_non_other_categories_are_not_one_case() -> None:
    a = report(appeal_id="A", phone=mobile(1), category="LAB-WAGE")
    b = report(appeal_id="B", phone=mobile(1), category="LAB-INJURY")
    _, kinds = engine_with(a, b)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.NEW_CASE]


def test_other_is_compatible_with_any_category() -> None:
    a = report(appeal_id="A", phone=mobile(1), category="LAB-WAGE")
    b = report(appeal_id="B", phone=mobile(1), category="LAB-OTHER")
    _, kinds = engine_with(a, b)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.DUPLICATE_REPORT]


def test_thirty_days_apart_match_thirty_one_do_not() -> None:
    a = report(appeal_id="A", phone=mobile(1))
    b = report(appeal_id="B", phone=mobile(1), at=T0 + timedelta(days=30))
    c = report(appeal_id="C", phone=mobile(1), at=T0 - timedelta(days=31))
    assert matches(a, b)
    assert not matches(a, c)
    _, kinds = engine_with(b, c)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.NEW_CASE]


def test_credit_codes_decide_when_both_have_one() -> None:
    a = report(appeal_id="A", phone=mobile(1), credit_code=uscc(1))
    b = report(appeal_id="B", phone=mobile(1), credit_code=uscc(2))
    c = report(appeal_id="C", phone=mobile(1), credit_code=uscc(1), employer="完全不同的名字")
    d = report(appeal_id="D", phone=mobile(1), credit_code=None)  # name only: compares names
    assert not matches(a, b)
    assert matches(a, c)
    assert matches(a, d)
    assert matches(b, d)


def test_employer_names_are_compared_normalised() -> None:
    a = report(appeal_id="A", phone=mobile(1), employer="深圳市南山区某某科技有限公司")
    b = report(appeal_id="B", phone=mobile(1), employer="某某科技 股份有限公司")
    assert matches(a, b)


def test_a_report_without_employer_matches_nothing() -> None:
    a = report(appeal_id="A", phone=mobile(1), employer=None)
    b = report(appeal_id="B", phone=mobile(1), employer=None)
    assert not matches(a, b)
    _, kinds = engine_with(a, b)
    assert kinds == [OutcomeKind.NEW_CASE, OutcomeKind.NEW_CASE]


# --- the no-identity text rule --------------------------------------------------------


def anonymous(
    external_id: str, days: float = 0, text: str = TEXT, **kw: object
) -> NormalizedReport:
    return report(
        appeal_id=external_id,
        name=None,
        phone=None,
        id_no=None,
        title="",
        content=text,
        at=T0 + timedelta(days=days),
        **kw,
    )


def test_anonymous_similar_text_same_employer_within_seven_days_is_one_case() -> None:
    a = report(appeal_id="A", phone=mobile(1), title="", content=TEXT)
    b = anonymous("B", days=7, text=TEXT.replace("请求帮助讨薪", "请求帮忙讨薪"))
    assert matches(a, b)
    c = anonymous("C", days=6, category="LAB-INJURY")  # categories do not matter here
    _, kinds = engine_with(a, b, c)
    assert kinds == [
        OutcomeKind.NEW_CASE,
        OutcomeKind.DUPLICATE_REPORT,
        OutcomeKind.DUPLICATE_REPORT,
    ]


def test_text_rule_negative_cases() -> None:
    a = anonymous("A")
    assert not matches(a, anonymous("B", days=7.01))
    assert not matches(a, anonymous("C", text="工伤认定迟迟没有结果，单位不配合提供材料"))
    assert not matches(a, anonymous("D", employer="深圳市别的公司"))
    # Both with a person identity (different persons): the text rule does not apply.
    p = report(appeal_id="P", phone=mobile(1), title="", content=TEXT)
    q = report(appeal_id="Q", phone=mobile(2), title="", content=TEXT)
    assert not matches(p, q)


def test_spaces_do_not_change_similarity() -> None:
    a = anonymous("A", text=TEXT)
    b = anonymous("B", text=" ".join(TEXT))
    assert matches(a, b)


# --- merges -------------------------------------------------------------------------


def test_late_report_merges_two_dispatched_cases_earliest_survives() -> None:
    a = report(appeal_id="A", phone=mobile(1))
    b = report(appeal_id="B", id_no=id_number(2), at=T0 + timedelta(days=1))
    c = report(appeal_id="C", phone=mobile(1), id_no=id_number(2), at=T0 + timedelta(days=2))
    engine = DedupeEngine()
    first_a = engine.observe(a)
    first_b = engine.observe(b)
    assert first_a.case is not None
    assert first_b.case is not None
    assert first_a.case.case_id != first_b.case.case_id
    merged = engine.observe(c)
    assert merged.kind is OutcomeKind.CASE_MERGED
    assert merged.case is not None
    assert merged.case.case_id == first_a.case.case_id
    assert [m.case_id for m in merged.merged] == [first_b.case.case_id]
    assert [s.external_id for s in merged.case.sources] == ["A", "B", "C"]
    assert case(engine, "B") == first_a.case.case_id
    # A later report of the merged case joins the survivor.
    d = report(appeal_id="D", id_no=id_number(2), at=T0 + timedelta(days=3))
    later = engine.observe(d)
    assert later.kind is OutcomeKind.DUPLICATE_REPORT
    assert later.case is not None
    assert later.case.case_id == first_a.case.case_id


def test_merge_survivor_is_earliest_dispatched_not_earliest_reported() -> None:
    b = report(appeal_id="B", id_no=id_number(2), at=T0 + timedelta(days=5))
    a = report(appeal_id="A", phone=mobile(1), at=T0)
    c = report(appeal_id="C", phone=mobile(1), id_no=id_number(2), at=T0 + timedelta(days=2))
    engine = DedupeEngine()
    opened_b = engine.observe(b)
    engine.observe(a)
    merged = engine.observe(c)
    assert opened_b.case is not None
    assert merged.case is not None
    assert merged.case.case_id == opened_b.case.case_id


# --- versions ----------------------------------------------------------------------------


def test_versions_updated_repeat_and_stale() -> None:
    engine = DedupeEngine()
    v1 = report(appeal_id="A", phone=mobile(1), version=1)
    v3 = report(appeal_id="A", phone=mobile(1), version=3, status="accepted")
    v2 = report(appeal_id="A", phone=mobile(1), version=2)
    assert engine.observe(v1).kind is OutcomeKind.NEW_CASE
    assert engine.observe(v1).kind is OutcomeKind.REPEAT
    updated = engine.observe(v3)
    assert updated.kind is OutcomeKind.CASE_UPDATED
    assert updated.first.version == "1"
    assert engine.observe(v3).kind is OutcomeKind.REPEAT
    assert engine.observe(v2).kind is OutcomeKind.STALE


def test_newer_version_keeps_dedupe_fields_of_the_first() -> None:
    engine = DedupeEngine()
    engine.observe(report(appeal_id="A", phone=mobile(1), employer="深圳市甲公司", version=1))
    engine.observe(report(appeal_id="A", phone=mobile(1), employer="深圳市乙公司", version=2))
    joined = engine.observe(report(appeal_id="B", phone=mobile(1), employer="深圳市甲公司"))
    assert joined.kind is OutcomeKind.DUPLICATE_REPORT
    other = engine.observe(report(appeal_id="C", phone=mobile(1), employer="深圳市乙公司"))
    assert other.kind is OutcomeKind.NEW_CASE


# --- state ------------------------------------------------------------------------------


def test_restore_from_changelog_continues_identically() -> None:
    reports = [
        report(appeal_id="A", phone=mobile(1)),
        report(appeal_id="B", id_no=id_number(2)),
        anonymous("X"),
    ]
    original = DedupeEngine()
    changelog: dict[str, bytes | None] = {}
    for r in reports:
        original.observe(r)
        changelog.update(original.take_changes())
    restored = DedupeEngine()
    for key, value in changelog.items():
        restored.restore(key, value)
    late = report(appeal_id="C", phone=mobile(1), id_no=id_number(2))
    a, b = original.observe(late), restored.observe(late)
    assert (a.kind, a.case, a.merged, a.seq) == (b.kind, b.case, b.merged, b.seq)
    assert original.take_changes() == restored.take_changes()


# --- order independence -------------------------------------------------------------------


def brute_force_partition(reports: list[NormalizedReport]) -> set[frozenset[str]]:
    parent = {r.external_id: r.external_id for r in reports}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in combinations(reports, 2):
        if matches(a, b):
            parent[find(a.external_id)] = find(b.external_id)
    groups: dict[str, set[str]] = {}
    for r in reports:
        groups.setdefault(find(r.external_id), set()).add(r.external_id)
    return {frozenset(g) for g in groups.values()}


def engine_partition(reports: list[NormalizedReport]) -> set[frozenset[str]]:
    engine = DedupeEngine()
    for r in reports:
        engine.observe(r)
    groups: dict[str, set[str]] = {}
    for r in reports:
        case_id = case(engine, r.external_id)
        assert case_id is not None
        groups.setdefault(case_id, set()).add(r.external_id)
    return {frozenset(g) for g in groups.values()}


TEXTS = (TEXT, TEXT + "，情况紧急", "工伤认定迟迟没有结果，单位不配合提供材料")
spec = st.fixed_dictionaries(
    {
        "phone": st.sampled_from([None, mobile(1), mobile(2), mobile(3)]),
        "id_no": st.sampled_from([None, id_number(1), id_number(2)]),
        "employer": st.sampled_from(["深圳市甲公司", "甲有限公司", "深圳市乙公司", None]),
        "category": st.sampled_from(["LAB-WAGE", "LAB-INJURY", "LAB-OTHER"]),
        "days": st.integers(min_value=0, max_value=40),
        "text": st.sampled_from(TEXTS),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(spec, min_size=2, max_size=9), st.randoms(use_true_random=False))
def test_final_partition_is_order_independent_and_is_the_components(
    specs: list[dict[str, object]], rnd: object
) -> None:
    reports = [
        report(
            appeal_id=f"R{i}",
            name=None,
            phone=s["phone"],
            id_no=s["id_no"],
            employer=s["employer"],
            category=s["category"],
            at=T0 + timedelta(days=s["days"]),  # type: ignore[arg-type]
            title="",
            content=s["text"],
        )
        for i, s in enumerate(specs)
    ]
    expected = brute_force_partition(reports)
    assert engine_partition(reports) == expected
    shuffled = list(reports)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert engine_partition(shuffled) == expected
    assert engine_partition(list(reversed(reports))) == expected
