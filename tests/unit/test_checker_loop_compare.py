"""The loop check on crafted runs: a perfect router is clean, each fault moves one counter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import Expectations, check
from checker.loop import LoopOptions, LoopReport, WorkingDays, check_loop, compute_figures
from checker.loop.figures import facts_of_truth
from checker.observed import Message
from tests.unit.test_checker_loop_builders import World, alert_value, cst, iso

AT = "2026-12-11T12:00"
COUNTERS = (
    "case_states_missing", "case_states_extra", "case_states_wrong", "sla_alerts_missing",
    "sla_alerts_extra", "sla_alerts_raised_twice", "sla_alerts_raised_late", "sla_alerts_wrong",
    "actions_lost", "actions_applied_twice", "actions_applied_wrongly",
    "actions_refused_wrongly", "case_moves_wrong", "figures_wrong", "malformed_messages",
)  # fmt: skip


def busy_world() -> World:
    """Five cases of two districts: late and on-time accepts, a return and an assignment,
    a dissatisfied visit, a second report, refusals."""
    w = World()
    for case_id in ("C1", "C2", "C4", "C5"):
        w.new_case(case_id, "2026-12-07T10:00")
    w.new_case("C3", "2026-12-07T10:00", district="futian")
    w.report("C3", "2026-12-07T15:00")
    w.act("nanshan", "C1", "accept", "2026-12-07T11:00", action_id="c1-accept")
    w.act("nanshan", "C1", "resolve", "2026-12-08T10:00")
    w.act("nanshan", "C1", "visit", "2026-12-09T10:00")
    w.act("nanshan", "C2", "accept", "2026-12-10T12:00")
    w.act("nanshan", "C4", "resolve", "2026-12-07T10:30", action_id="c4-early")
    w.refuse("c4-early")
    w.act("nanshan", "C4", "accept", "2026-12-07T11:00")
    w.act("nanshan", "C4", "resolve", "2026-12-08T10:00")
    w.act("nanshan", "C4", "visit", "2026-12-09T10:00", satisfaction="dissatisfied")
    w.act("nanshan", "C5", "accept", "2026-12-07T11:00")
    w.act("nanshan", "C5", "return", "2026-12-08T10:00", reason="不属本区")
    w.act("city", "C5", "assign", "2026-12-08T12:00", to_district="futian")
    w.observed.actions.append(Message("cases.actions.nanshan", 0, 99, {"action_id": "bad"}))
    w.refuse(None, "action_invalid", source="cases.actions.nanshan-0-99")
    return w


def judged(world: World, **options: Any) -> LoopReport:
    options.setdefault("figures", {})
    options.setdefault("at", cst(AT))
    return check_loop(world.observed, LoopOptions(**options))


def failing(report: LoopReport) -> dict[str, int]:
    return {name: getattr(report, name) for name in COUNTERS if getattr(report, name)}


def published() -> World:
    world = busy_world()
    world.publish(AT)
    return world


def state(world: World, case_id: str) -> dict[str, Any]:
    found = [m for m in world.observed.case_states if m.key == case_id]
    assert found[-1].value is not None
    return found[-1].value


def test_a_router_that_agrees_is_clean() -> None:
    report = judged(published(), figures=None)
    assert report.ok, report.format()
    assert report.cases_expected == report.case_states_seen == 5
    assert report.sla_alerts_expected > 0
    assert (report.actions_applied, report.actions_refused) == (10, 2)
    assert report.case_moves_expected == 2
    assert report.figures_compared > 100
    assert "sla alerts missing" in report.format()


def test_a_missing_alert() -> None:
    world = published()
    del world.observed.sla_alerts[0]
    assert failing(judged(world)) == {"sla_alerts_missing": 1}


def test_an_alert_raised_twice_and_an_alert_id_used_twice() -> None:
    world = published()
    world.observed.sla_alerts.append(world.observed.sla_alerts[0])
    assert failing(judged(world)) == {"sla_alerts_raised_twice": 1}
    world = published()
    other = dict(world.observed.sla_alerts[1].value or {})
    other["alert_id"] = (world.observed.sla_alerts[0].value or {})["alert_id"]
    world.observed.sla_alerts[1] = replace(world.observed.sla_alerts[1], value=other)
    assert failing(judged(world)) == {"sla_alerts_raised_twice": 1}


def test_an_alert_nobody_expects_and_a_malformed_one() -> None:
    world = published()
    extra = dict(world.observed.sla_alerts[0].value or {})
    extra.update(alert_id="x", clock="resolve", level="escalated")
    world.observed.sla_alerts.append(Message("alerts.sla", 0, 50, extra))
    world.observed.sla_alerts.append(Message("alerts.sla", 0, 51, {"alert_id": 3}))
    assert failing(judged(world)) == {"sla_alerts_extra": 1, "malformed_messages": 1}


def test_a_late_alert_unless_the_router_was_down() -> None:
    world = busy_world()
    truth = world.publish(AT)
    first = truth.alerts[0]
    world.observed.sla_alerts[0] = Message(
        "alerts.sla", 0, 0, alert_value(first, timedelta(seconds=30))
    )
    assert failing(judged(world)) == {"sla_alerts_raised_late": 1}
    down = ((first.level_at - timedelta(minutes=5), first.level_at + timedelta(seconds=28)),)
    assert failing(judged(world, downtime=down)) == {}


def test_an_alert_with_a_wrong_deadline() -> None:
    world = published()
    value = dict(world.observed.sla_alerts[0].value or {})
    value["due_at"] = iso(cst("2027-01-01T00:00"))
    world.observed.sla_alerts[0] = replace(world.observed.sla_alerts[0], value=value)
    assert failing(judged(world)) == {"sla_alerts_wrong": 1}


def test_a_level_reached_just_before_the_evaluation_is_not_demanded() -> None:
    world = published()
    report = judged(world, at=cst("2026-12-09T00:00:03"))  # C2's accept overdue: 3 s ago
    assert report.sla_alerts_optional >= 1
    assert not report.sla_alerts_missing


def test_a_wrong_status_is_counted_by_field() -> None:
    world = published()
    state(world, "C2")["status"] = "in_progress"
    state(world, "C2")["clocks"]["accept"]["met_at"] = None
    report = judged(world)
    assert failing(report) == {"case_states_wrong": 1}
    assert report.wrong_fields == {"status": 1, "clock.accept.met_at": 1}


def test_missing_and_extra_states_and_a_tombstone() -> None:
    world = published()
    ghost = state(world, "C2") | {"case_id": "GHOST"}
    world.observed.case_states.append(Message("cases.state", 0, 90, None, key="C1", tombstone=True))
    world.observed.case_states.append(Message("cases.state", 0, 91, ghost, key="GHOST"))
    # C1's history went with its state: its three actions are unaccounted for
    assert failing(judged(world)) == {
        "case_states_missing": 1,
        "case_states_extra": 1,
        "actions_lost": 3,
    }


def test_a_lost_action_and_one_applied_twice() -> None:
    world = published()
    history = state(world, "C2")["history"]
    history.clear()
    assert failing(judged(world)) == {"actions_lost": 1}
    world = published()
    history = state(world, "C1")["history"]
    history.append(history[0])
    assert failing(judged(world)) == {"actions_applied_twice": 1}


def test_an_action_refused_wrongly_and_one_applied_wrongly() -> None:
    world = published()
    state(world, "C1")["history"] = [
        e for e in state(world, "C1")["history"] if e["action_id"] != "c1-accept"
    ]
    world.refuse("c1-accept")
    assert failing(judged(world)) == {"actions_refused_wrongly": 1}
    world = published()
    state(world, "C4")["history"].append({"action_id": "c4-early", "action": "resolve"})
    assert failing(judged(world)) == {"actions_applied_wrongly": 1}


def test_an_unrefused_invalid_action_is_lost() -> None:
    world = published()
    world.observed.dead_letters = [
        m for m in world.observed.dead_letters if (m.value or {})["external_id"] is not None
    ]
    assert failing(judged(world)) == {"actions_lost": 1}


def test_a_missing_case_move() -> None:
    world = published()
    world.observed.dispatch = [
        m for m in world.observed.dispatch if (m.value or {})["event_type"] != "case_assigned"
    ]
    assert failing(judged(world)) == {"case_moves_wrong": 1}


def test_the_figures_by_hand() -> None:
    world = busy_world()
    truth = world.truth(AT)
    figures = compute_figures(
        (facts_of_truth(c) for c in truth.live_cases().values()),
        cst("2026-12-07T00:00"),
        cst("2026-12-14T00:00"),
        cst(AT),
        WorkingDays(),
    )
    nanshan, futian, city = figures["nanshan"], figures["futian"], figures["city"]
    assert (nanshan["dispatched"], futian["dispatched"], city["dispatched"]) == (3, 2, 5)
    assert nanshan["accept_rate"] == (3, 3)
    assert nanshan["accept_on_time_rate"] == (2, 3)  # C2 accepted on Thursday
    assert futian["accept_rate"] == (0, 2)  # C3, and C5 since its assignment
    assert nanshan["resolve_rate"] == nanshan["resolve_on_time_rate"] == (2, 2)  # early
    assert nanshan["satisfaction_rate"] == (1, 2)
    assert futian["repeat_rate"] == (1, 2)
    assert (nanshan["reopened"], nanshan["returned"], city["returned"]) == (1, 1, 1)
    assert (nanshan["overdue_now"], futian["overdue_now"], city["overdue_now"]) == (1, 2, 3)
    assert (nanshan["open"], futian["open"]) == (2, 2)
    assert nanshan["accept_hours_p50"] == pytest.approx(1.0)


def test_figures_given_by_the_router_are_compared_number_by_number() -> None:
    world = published()
    truth = world.truth(AT)
    start, end = cst("2026-12-07T00:00"), cst("2026-12-14T00:00")
    ours = compute_figures(
        (facts_of_truth(c) for c in truth.live_cases().values()), start, end, cst(AT), WorkingDays()
    )
    given: dict[str, dict[str, Any]] = {
        "nanshan": {k: list(v) if isinstance(v, tuple) else v for k, v in ours["nanshan"].items()},
        "city": {"accept_rate": {"numerator": 3, "denominator": 5}, "dispatched": 5},
    }
    report = judged(world, figures=given, period=(start, end))
    assert (report.figures_compared, report.figures_wrong) == (len(ours["nanshan"]) + 2, 0)
    given["nanshan"]["accept_on_time_rate"] = [3, 3]
    given["city"]["dispatched"] = 4
    given["city"]["ranking"] = 1  # not a figure the checker computes: noted only
    report = judged(world, figures=given, period=(start, end))
    assert report.figures_wrong == 2
    assert any("city.ranking" in p for p in report.problems)


def test_the_dispatch_check_leaves_the_loop_messages_alone() -> None:
    world = published()
    doc: dict[str, list[Any]] = {
        "expected_versions": [], "possible_versions": [], "versions": [], "cases": [],
        "alerts": [], "dead_letters": [],
    }  # fmt: skip
    report = check(Expectations.from_document(doc), world.observed)
    assert report.malformed_messages == 0
    assert report.dead_letters_unexpected == 0


def _dispatch(event_id: str, kind: str, where: str | None, at: str, ext: str) -> Message:
    value: dict[str, Any] = {
        "schema": "unionhub.dispatch/1", "event_id": event_id, "event_type": kind,
        "case_id": "C1", "district": where, "triage_reason": None if where else "returned",
        "report": {"channel": "citizen_app", "external_id": ext, "version": "1"},
        "merged_case_ids": [], "complainant": None, "summary": "欠薪",
        "dispatched_at": iso(cst(at)),
    }  # fmt: skip
    target = where or "triage"
    return Message(f"dispatch.{target}", 0, 0, value, target)


@pytest.mark.parametrize(("late_topic", "misrouted"), [("futian", 0), ("nanshan", 1)])
def test_after_a_move_a_cases_events_are_expected_where_it_moved(
    late_topic: str, misrouted: int
) -> None:
    versions = [
        {"channel": "citizen_app", "external_id": x, "version": "1", "case_id": "c1",
         "events": ["new_case", "duplicate_report"], "events_live": []}
        for x in ("A1", "A2")
    ]  # fmt: skip
    doc = {
        "expected_versions": [{k: v[k] for k in ("channel", "external_id", "version")}
                              for v in versions],
        "possible_versions": [], "versions": versions, "alerts": [], "dead_letters": [],
        "cases": [{"case_id": "c1", "reports": [["citizen_app", "A1"], ["citizen_app", "A2"]],
                   "placements": ["nanshan"]}],
    }  # fmt: skip
    observed = World().observed
    observed.dispatch = [
        _dispatch("e1", "new_case", "nanshan", "2026-12-07T10:00", "A1"),
        _dispatch("e2", "case_returned", None, "2026-12-07T12:00", "A1"),
        _dispatch("e3", "case_assigned", "futian", "2026-12-08T12:00", "A1"),
        _dispatch("e4", "duplicate_report", late_topic, "2026-12-09T12:00", "A2"),
    ]
    report = check(Expectations.from_document(doc), observed)
    assert (report.misrouted_cases, report.dispatched_twice, report.wrong_event_types) == (
        misrouted,
        0,
        0,
    )


KINDS = ["accept", "contact", "suspend", "resume", "resolve", "return", "assign", "visit"]
KINDS += ["visit-", "note", "report", "risk"]  # visit-: dissatisfied
KINDS = ["accept", "contact", "suspend", "resume", "resolve", "return", "assign", "visit"]
KINDS += ["visit-", "note", "report", "risk"]  # visit-: a dissatisfied visit
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["C1", "C2"]),
        st.sampled_from(KINDS),
        st.integers(min_value=1, max_value=4 * 24 * 60),  # minutes after the previous step
    ),
    max_size=14,
)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_any_timeline_published_faithfully_is_clean(steps: list[tuple[str, str, int]]) -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.new_case("C2", "2026-12-07T10:00", category="wage_arrears")
    at = cst("2026-12-07T10:00")
    for case_id, kind, minutes in steps:
        at += timedelta(minutes=minutes)
        when = at.replace(tzinfo=None).isoformat()
        if kind == "report":
            world.report(case_id, when)
        elif kind == "risk":
            world.risk([case_id], when)
        elif kind in ("assign", "visit-"):
            fields = {"to_district": "futian"} if kind == "assign" else {}
            fields |= {"satisfaction": "dissatisfied"} if kind == "visit-" else {}
            world.act("city", case_id, kind.rstrip("-"), when, **fields)
        else:
            world.act("nanshan", case_id, kind, when)
    end = (at + timedelta(days=20)).replace(tzinfo=None).isoformat()
    truth = world.publish(end)
    keys = [a.key for a in truth.alerts]
    assert len(keys) == len(set(keys))  # each (case, clock, level, restart) once
    report = judged(world, at=cst(end), figures=None)
    assert report.ok, report.format()


@pytest.mark.parametrize(("alert_after_s", "raced"), [(3, True), (30, False)])
def test_an_action_in_flight_as_the_case_s_risk_alert_came_races_it(
    alert_after_s: int, raced: bool
) -> None:
    # The contact was done at 11:30; the risk alert took the case in 3 s later, while the
    # action was in flight: a router that took the alert in first shortened the contact
    # clock to the emergency's 4 hours, then met it at 11:30. Within the race (5 s) both
    # orders are right; 30 s later, only the replay's.
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "contact", "2026-12-07T11:30")
    alerted = cst("2026-12-07T11:30") + timedelta(seconds=alert_after_s)
    world.risk(["C1"], alerted.strftime("%Y-%m-%dT%H:%M:%S"))
    world.publish(AT)
    contact = state(world, "C1")["clocks"]["contact"]
    assert contact["unit"] == "working_days"
    contact.update(unit="hours", due_at=iso(alerted + timedelta(hours=4)))
    report = judged(world, figures=None)
    assert report.cases_raced == int(raced)
    assert failing(report) == ({} if raced else {"case_states_wrong": 1})


def test_a_report_that_overtook_a_resolve_in_an_outage_races_it() -> None:
    # Resolved at 10:00 while the router was down; a new report arrived after it came back
    # at 10:10. The router took the report in first (no reopening: the case was in
    # progress), then the resolve: the case is resolved, not reopened. The replay reopens
    # it; with the outage given, both are right, and the figures count the router's.
    world = World()
    world.new_case("C1", "2026-12-07T09:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T09:10")
    world.act("nanshan", "C1", "resolve", "2026-12-07T10:00")
    world.report("C1", "2026-12-07T10:10")
    world.publish(AT)
    value = state(world, "C1")
    assert value["status"] == "in_progress"  # the replay's order reopened it
    value.update(status="resolved", reopened=0)
    value["runs"] = value["runs"][:1]
    down = ((cst("2026-12-07T09:58"), cst("2026-12-07T10:09:58")),)
    assert failing(judged(world, downtime=down, figures=None)) == {}
    report = judged(world, figures=None)
    assert report.cases_raced == 0
    assert failing(report)["case_states_wrong"] == 1


@pytest.mark.parametrize(("before_s", "wrong"), [(2, 0), (60, 1)])
def test_a_level_raised_just_before_a_suspend_pushed_it_back_may_keep_its_first_times(
    before_s: int, wrong: int
) -> None:
    # A suspend done 2 s before the resolve deadline was in flight when the router raised
    # "overdue" at the deadline; the replay has the level later (after the resume). Within
    # the race (5 s) the router's first times are right too; 60 s before, they are not.
    world = World()
    world.new_case("C1", "2026-12-07T10:00", category="wage_arrears")
    world.act("nanshan", "C1", "accept", "2026-12-07T10:30")
    due = world.truth(AT).cases["C1"].clocks["resolve"].due
    assert due is not None
    suspended = due - timedelta(seconds=before_s)
    world.act("nanshan", "C1", "suspend", suspended.strftime("%Y-%m-%dT%H:%M:%S"))
    world.act("nanshan", "C1", "resume", "2026-12-17T12:00")
    world.publish("2026-12-31T12:00")
    overdue = next(
        m
        for m in world.observed.sla_alerts
        if (m.value or {})["clock"] == "resolve" and (m.value or {})["level"] == "overdue"
    )
    value = dict(overdue.value or {})
    value.update(level_at=iso(due), due_at=iso(due), raised_at=iso(due + timedelta(seconds=1)))
    world.observed.sla_alerts[world.observed.sla_alerts.index(overdue)] = replace(
        overdue, value=value
    )
    report = judged(world, at=cst("2026-12-31T12:00"))
    assert report.sla_alerts_wrong == wrong
