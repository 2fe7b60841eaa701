"""The checker's replay of the case loop on hand-built timelines (caseloop.md's rules).

Times are CST; 2026-12-07 is a Monday with no holiday near it. A ``general``
case (labor_contract) has 1 / 3 / 15 working days, an ``urgent`` one
(wage_arrears) 1 / 2 / 7, an ``emergency`` 1 h / 4 h / 3 working days.
"""

from __future__ import annotations

from datetime import datetime

from checker.loop.truth import APPLIED, REFUSED, REPEAT, LoopTruth
from tests.unit.test_checker_loop_builders import World, cst


def alerts_of(truth: LoopTruth, case_id: str) -> dict[tuple[str, str, int], datetime]:
    """(clock, level, restart) -> level_at of the case's expected SLA alerts."""
    return {(a.clock, a.level, a.restart): a.level_at for a in truth.alerts if a.case_id == case_id}


def outcomes(truth: LoopTruth) -> list[str]:
    return [v.outcome for v in truth.verdicts]


def test_accept_on_time_meets_the_clock_and_raises_nothing() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-08T12:00")
    truth = world.truth("2026-12-08T13:00")
    case = truth.cases["C1"]
    accept = case.clocks["accept"]
    assert case.status == "accepted"
    assert (accept.state, accept.due, accept.met) == (
        "met",
        cst("2026-12-09T00:00"),  # 24:00 of the first working day after Monday
        cst("2026-12-08T12:00"),
    )
    assert alerts_of(truth, "C1") == {}


def test_accept_late_raises_warning_at_80_percent_and_overdue_at_the_deadline() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-10T12:00")
    truth = world.truth("2026-12-11T12:00")
    # accept: 38 working hours (Mon 14 h + Tue 24 h), 80 % = 30.4 h: Tue 16:24.
    # contact: 86 working hours to Thu 24:00, 80 % = 68.8 h: Thu 06:48.
    assert alerts_of(truth, "C1") == {
        ("accept", "warning", 0): cst("2026-12-08T16:24"),
        ("accept", "overdue", 0): cst("2026-12-09T00:00"),
        ("contact", "warning", 0): cst("2026-12-10T06:48"),
        ("contact", "overdue", 0): cst("2026-12-11T00:00"),
    }  # accept escalated (200 %: Thu 14:00) never came: it was met at 12:00
    accept = truth.cases["C1"].clocks["accept"]
    assert accept.met is not None
    assert accept.due is not None
    assert accept.met > accept.due


def test_contact_moves_the_case_in_progress() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "contact", "2026-12-07T15:00")
    case = world.truth("2026-12-07T16:00").cases["C1"]
    assert case.status == "in_progress"
    assert case.clocks["contact"].met == cst("2026-12-07T15:00")
    assert case.clocks["contact"].due == cst("2026-12-11T00:00")


def test_suspend_and_resume_move_the_resolve_deadline_by_the_working_time_suspended() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00", category="wage_arrears")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "suspend", "2026-12-08T10:00")
    during = world.truth("2026-12-09T10:00").cases["C1"]
    assert during.status == "suspended"
    assert (during.clocks["resolve"].state, during.clocks["resolve"].due) == ("paused", None)
    world.act("nanshan", "C1", "resume", "2026-12-10T10:00")
    case = world.truth("2026-12-10T11:00").cases["C1"]
    # 7 working days from Monday end Wed 16 Dec 24:00; two working days suspended: Fri 18.
    assert case.status == "accepted"
    assert case.clocks["resolve"].due == cst("2026-12-19T00:00")
    assert case.runs[-1].due == cst("2026-12-19T00:00")


def test_a_weekend_inside_a_suspension_does_not_count() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00", category="wage_arrears")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "suspend", "2026-12-11T12:00")  # Friday noon
    world.act("nanshan", "C1", "resume", "2026-12-14T12:00")  # Monday noon: 24 working h
    assert world.truth("2026-12-14T13:00").cases["C1"].clocks["resolve"].due == cst(
        "2026-12-18T00:00"
    )


def test_resolve_early_meets_resolve_and_contact() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "resolve", "2026-12-08T10:00")
    truth = world.truth("2026-12-08T11:00")
    case = truth.cases["C1"]
    assert (case.status, case.resolved_at, case.result) == (
        "resolved",
        cst("2026-12-08T10:00"),
        "resolved",
    )
    assert case.clocks["contact"].met == case.clocks["resolve"].met == cst("2026-12-08T10:00")
    assert alerts_of(truth, "C1") == {}


def test_resolve_late_after_its_warning_and_overdue() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00", category="wage_arrears")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "contact", "2026-12-07T12:00")
    world.act("nanshan", "C1", "resolve", "2026-12-18T10:00")
    truth = world.truth("2026-12-18T11:00")
    # 182 working hours to Wed 16 Dec 24:00; 80 % = 145.6 h: Tue 15 Dec 11:36.
    assert alerts_of(truth, "C1") == {
        ("resolve", "warning", 0): cst("2026-12-15T11:36"),
        ("resolve", "overdue", 0): cst("2026-12-17T00:00"),
    }
    run = truth.cases["C1"].runs[-1]
    assert run.resolved is not None
    assert run.due is not None
    assert run.resolved > run.due


def test_a_return_then_an_assign_start_the_clocks_anew_with_a_new_restart() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "return", "2026-12-07T12:00", reason="不属本区")
    returned = world.truth("2026-12-07T13:00").cases["C1"]
    assert (returned.status, returned.district, returned.returned) == ("returned", None, 1)
    assert {n: c.state for n, c in returned.clocks.items()} == {
        "accept": "met",
        "contact": "stopped",
        "resolve": "stopped",
    }
    late = world.act("nanshan", "C1", "note", "2026-12-07T14:00")
    world.act("city", "C1", "assign", "2026-12-08T09:00", to_district="futian")
    truth = world.truth("2026-12-10T12:00")
    case = truth.cases["C1"]
    assert (case.status, case.district, case.restart) == ("dispatched", "futian", 1)
    assert case.dispatched_at == cst("2026-12-08T09:00")
    assert case.clocks["accept"].due == cst("2026-12-10T00:00")
    # the new accept clock: 39 working hours from Tue 09:00, 80 % = 31.2 h: Wed 16:12
    assert alerts_of(truth, "C1") == {
        ("accept", "warning", 1): cst("2026-12-09T16:12"),
        ("accept", "overdue", 1): cst("2026-12-10T00:00"),
    }
    assert [(m.event_type, m.district) for m in truth.moves] == [
        ("case_returned", None),
        ("case_assigned", "futian"),
    ]
    refused = [v for v in truth.verdicts if v.sent.action_id == late]
    assert refused[0].outcome == REFUSED


def test_a_dissatisfied_visit_reopens_the_case_with_two_sla_alerts() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "resolve", "2026-12-08T10:00")
    world.act("nanshan", "C1", "visit", "2026-12-09T10:00", satisfaction="dissatisfied")
    truth = world.truth("2026-12-09T11:00")
    case = truth.cases["C1"]
    assert (case.status, case.reopened, case.restart, case.satisfaction) == (
        "in_progress",
        1,
        1,
        "dissatisfied",
    )
    assert alerts_of(truth, "C1") == {
        ("resolve", "dissatisfied", 1): cst("2026-12-09T10:00"),
        ("resolve", "reopened", 1): cst("2026-12-09T10:00"),
    }
    # a new resolve clock: 15 working days after Wed 9 Dec end Wed 30 Dec 24:00
    assert case.clocks["resolve"].due == cst("2026-12-31T00:00")
    assert [r.started for r in case.runs] == [cst("2026-12-07T10:00"), cst("2026-12-09T10:00")]


def test_a_new_report_within_30_days_of_resolve_reopens_even_a_closed_case() -> None:
    world = World()
    for case_id in ("C1", "C2"):
        world.new_case(case_id, "2026-12-07T10:00")
        world.act("nanshan", case_id, "accept", "2026-12-07T11:00")
        world.act("nanshan", case_id, "resolve", "2026-12-08T10:00")
        world.act("nanshan", case_id, "visit", "2026-12-09T10:00")
    world.report("C1", "2026-12-20T10:00")
    world.report("C2", "2027-01-07T10:01")  # 30 days and a minute after its resolve
    truth = world.truth("2027-01-08T10:00")
    assert (truth.cases["C1"].status, truth.cases["C1"].reopened) == ("in_progress", 1)
    assert alerts_of(truth, "C1")[("resolve", "reopened", 1)] == cst("2026-12-20T10:00")
    assert (truth.cases["C2"].status, truth.cases["C2"].reopened) == ("closed", 0)
    assert alerts_of(truth, "C2") == {}


def test_fifteen_days_without_a_visit_close_the_case_and_a_later_visit_is_refused() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.act("nanshan", "C1", "resolve", "2026-12-08T10:00")
    assert world.truth("2026-12-23T09:59").cases["C1"].status == "resolved"
    closed = world.truth("2026-12-23T10:00").cases["C1"]
    assert (closed.status, closed.closed_at) == ("closed", cst("2026-12-23T10:00"))
    world.act("nanshan", "C1", "visit", "2026-12-24T10:00")
    assert outcomes(world.truth("2026-12-25T00:00")) == [APPLIED, APPLIED, REFUSED]


def test_an_alert_makes_each_unmet_deadline_the_earlier_of_the_old_and_now_plus_the_limit() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.risk(["C1"], "2026-12-07T11:00")
    truth = world.truth("2026-12-07T13:00")
    case = truth.cases["C1"]
    assert case.urgency == "emergency"
    assert {n: (c.unit, c.due) for n, c in case.clocks.items()} == {
        "accept": ("hours", cst("2026-12-07T12:00")),
        "contact": ("hours", cst("2026-12-07T15:00")),
        "resolve": ("working_days", cst("2026-12-11T00:00")),  # 3 working days from Monday
    }
    # accept now spans 2 h from its start: 80 % at 11:36
    assert alerts_of(truth, "C1") == {
        ("accept", "warning", 0): cst("2026-12-07T11:36"),
        ("accept", "overdue", 0): cst("2026-12-07T12:00"),
    }


def test_a_limit_never_grows_and_a_passed_level_is_reached_when_the_alert_came() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00", category="wage_arrears")  # accept due Tue 24:00
    world.new_case("C2", "2026-12-07T10:00")
    world.act("nanshan", "C2", "accept", "2026-12-07T11:00")
    world.risk(["C1"], "2026-12-08T23:30")  # now + 1 h is later than Tue 24:00
    world.risk(["C2"], "2026-12-09T12:00")  # contact: Thu 24:00 becomes Wed 16:00
    truth = world.truth("2026-12-09T13:00")
    accept = truth.cases["C1"].clocks["accept"]
    assert (accept.unit, accept.due) == ("working_days", cst("2026-12-09T00:00"))
    contact = truth.cases["C2"].clocks["contact"]
    assert (contact.unit, contact.due) == ("hours", cst("2026-12-09T16:00"))
    # 80 % of 54 h from Monday 10:00 is Tue 05:12, before the case was an emergency
    assert alerts_of(truth, "C2") == {("contact", "warning", 0): cst("2026-12-09T12:00")}


def test_ten_people_make_an_emergency_from_dispatch() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00", people=10)
    case = world.truth("2026-12-07T10:30").cases["C1"]
    assert (case.urgency, case.clocks["accept"].due) == ("emergency", cst("2026-12-07T11:00"))


def test_spring_festival_week() -> None:
    world = World()
    world.new_case("C1", "2026-02-13T15:00")  # Friday; Saturday 14 Feb is a working day
    world.new_case("C2", "2026-02-14T10:00")  # the working Saturday; then off until 23 Feb
    world.new_case("C3", "2026-02-12T10:00", category="wage_arrears")
    world.act("nanshan", "C3", "accept", "2026-02-12T11:00")
    world.act("nanshan", "C3", "suspend", "2026-02-13T10:00")
    world.act("nanshan", "C3", "resume", "2026-02-25T10:00")  # 72 working hours suspended
    truth = world.truth("2026-02-25T12:00")
    c1, c2, c3 = (truth.cases[c] for c in ("C1", "C2", "C3"))
    assert c1.clocks["accept"].due == cst("2026-02-15T00:00")
    assert c1.clocks["resolve"].due == cst("2026-03-13T00:00")
    assert c2.clocks["accept"].due == cst("2026-02-25T00:00")
    assert alerts_of(truth, "C2")[("accept", "warning", 0)] == cst("2026-02-24T16:24")
    # 7 working days from 12 Feb end Sat 28 Feb 24:00; three more working days: Wed 4 Mar
    assert c3.clocks["resolve"].due == cst("2026-03-05T00:00")


def test_national_day_week() -> None:
    world = World()
    world.new_case("C1", "2026-09-30T10:00")
    truth = world.truth("2026-10-09T12:00")
    case = truth.cases["C1"]
    assert case.clocks["accept"].due == cst("2026-10-09T00:00")  # Thu 8 Oct, first after
    assert case.clocks["contact"].due == cst("2026-10-11T00:00")  # Sat 10 Oct works
    assert alerts_of(truth, "C1")[("accept", "warning", 0)] == cst("2026-10-08T16:24")


def test_an_adjusted_working_sunday_and_mid_autumn() -> None:
    world = World()
    world.new_case("C1", "2026-09-19T10:00")  # Saturday; Sunday 20 Sep is a working day
    world.new_case("C2", "2026-09-24T10:00")  # Thursday; Fri 25 Sep is 中秋
    truth = world.truth("2026-09-24T12:00")
    assert truth.cases["C1"].clocks["accept"].due == cst("2026-09-21T00:00")
    assert truth.cases["C2"].clocks["accept"].due == cst("2026-09-29T00:00")


def test_actions_that_do_not_fit_are_refused_and_a_repeated_id_is_applied_once() -> None:
    world = World()
    world.new_case("C1", "2026-12-07T10:00")
    world.new_case("T1", "2026-12-07T10:00", district=None)
    world.act("nanshan", "C1", "resolve", "2026-12-07T10:30")  # before accept
    world.act("nanshan", "C1", "visit", "2026-12-07T10:40")  # before resolve
    world.act("futian", "C1", "accept", "2026-12-07T10:50")  # another district's case
    world.act("nanshan", "NOPE", "accept", "2026-12-07T10:55")  # unknown case
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00", action_id="a-1")
    world.act("nanshan", "C1", "accept", "2026-12-07T11:05", action_id="a-1")
    world.act("nanshan", "C1", "assign", "2026-12-07T11:10")  # only the city assigns
    world.act("city", "T1", "accept", "2026-12-07T11:20")  # in triage: assign only
    world.act("city", "T1", "assign", "2026-12-07T11:30", to_district="baoan")
    world.act("nanshan", "C1", "accept", "2026-12-07T12:00", actor="futian")  # topic != actor
    truth = world.truth("2026-12-07T13:00")
    assert outcomes(truth) == [
        *(REFUSED,) * 4,
        APPLIED,
        REPEAT,
        REFUSED,
        REFUSED,
        APPLIED,
        REFUSED,
    ]
    assert truth.cases["T1"].restart == 0  # a triage case's first assignment is its start
    assert truth.cases["T1"].clocks["accept"].due == cst("2026-12-09T00:00")


def test_unknown_years_count_monday_to_friday() -> None:
    world = World()
    world.new_case("C1", "2026-12-31T10:00")  # Thursday; 2027 is not in the calendar
    truth = world.truth("2026-12-31T11:00")
    assert truth.cases["C1"].clocks["accept"].due == cst("2027-01-02T00:00")
