"""The federations' seeded plan: the same seed gives the same plan, and the mix holds."""

from __future__ import annotations

from collections import Counter

import pytest

from schemas.caseloop import ResolveResult, Satisfaction
from schemas.shenzhen import DISTRICT_BY_SLUG
from simulators.federations.mix import MIX
from simulators.federations.plan import Fate, RunPlan, draw

CASES = 20_000


def plans(seed: int = 3, run: int = 1) -> list[RunPlan]:
    return [draw(seed, "nanshan", f"case-{i:05d}", run) for i in range(CASES)]


def share(count: int) -> float:
    return count / CASES


def test_the_same_inputs_give_the_same_plan_and_others_differ() -> None:
    assert draw(7, "futian", "case-x", 1) == draw(7, "futian", "case-x", 1)
    others = {
        draw(8, "futian", "case-x", 1),
        draw(7, "luohu", "case-x", 1),
        draw(7, "futian", "case-y", 1),
        draw(7, "futian", "case-x", 2),
    }
    assert draw(7, "futian", "case-x", 1) not in others


def test_fates_and_lateness_follow_the_mix() -> None:
    drawn = plans()
    fates = Counter(p.fate for p in drawn)
    assert share(fates[Fate.NEVER]) == pytest.approx(MIX.never_accept, abs=0.006)
    assert share(fates[Fate.RETURN]) == pytest.approx(MIX.wrong_district, abs=0.006)
    worked = [p for p in drawn if p.fate is Fate.WORK]
    late = sum(p.accept_frac > 1 for p in worked)
    assert share(late) == pytest.approx(MIX.late_accept, abs=0.01)
    assert all(MIX.accept_on_time.lo <= p.accept_frac <= MIX.accept_late.hi for p in drawn)
    late_contact = sum(p.contact_frac > 1 for p in drawn)
    assert share(late_contact) == pytest.approx(MIX.late_contact, abs=0.01)


def test_suspensions_resolves_and_visits_follow_the_mix() -> None:
    drawn = plans()
    suspended = [p.suspension for p in drawn if p.suspension is not None]
    assert share(len(suspended)) == pytest.approx(MIX.suspend, abs=0.01)
    assert all(1.0 <= s.days <= 3.0 and s.reason for s in suspended)
    late_resolves = sum(p.resolve_frac > 1 for p in drawn)
    assert share(late_resolves) == pytest.approx(0.2 / 0.9, abs=0.015)
    results = Counter(p.result for p in drawn)
    for result, weight in MIX.results:
        assert share(results[result]) == pytest.approx(weight, abs=0.012), result
    never = sum(p.visit_after_days is None for p in drawn)
    assert share(never) == pytest.approx(MIX.never_visit, abs=0.01)
    answers = Counter(p.satisfaction for p in drawn)
    for answer, weight in MIX.satisfactions:
        assert share(answers[answer]) == pytest.approx(weight, abs=0.012), answer
    assert set(results) == set(ResolveResult)


def test_a_case_reopens_by_its_visits_at_most_twice() -> None:
    third = plans(run=3)
    assert not any(p.satisfaction is Satisfaction.DISSATISFIED for p in third)


def test_a_return_suggests_another_real_district_and_the_desk_assigns_to_real_ones() -> None:
    drawn = plans()
    assert all(p.suggest in DISTRICT_BY_SLUG and p.suggest != "nanshan" for p in drawn)
    desk = [draw(3, "city", f"case-{i:05d}", 0) for i in range(2_000)]
    assert {p.assign_to for p in desk} == set(DISTRICT_BY_SLUG)
    assert all(MIX.assign_after_days.lo <= p.assign_after_days <= 0.5 for p in desk)
