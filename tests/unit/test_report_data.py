"""The weekly report's numbers on hand-built store contents: the overview against last week,
the figures as /stats computes them, rankings from 30 cases, the floor, the supervision list
oldest first with its levels, the week's bounds on a fast loop clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.casedata import CAL, act, event, state_change
from caseloop.calendar import CST
from caseloop.figures import compute
from caseloop.loopclock import LoopClock
from caseloop.transitions import open_case
from core.errors import ConfigError
from review.report.data import gather
from review.report.render import html_of
from review.report.week import Week
from review.store.base import Change, EventRow, SlaRow
from review.store.sqlite import SqliteCaseStore
from schemas.caseloop import ClockName, SlaAlert, Urgency
from schemas.channels import Channel
from schemas.complaint import Category
from schemas.dispatch import EventType

MONDAY = datetime(2026, 11, 30, tzinfo=CST)  # 2026-W49
NOW = MONDAY + timedelta(days=3, hours=10)
CLOCK = LoopClock()


def opened(case_id: str, district: str, at: datetime, **kw: object) -> list[Change]:
    ev = event(case_id, district, at=at, **kw)  # type: ignore[arg-type]
    loop = open_case(
        CAL, case_id=case_id, district=district, category=ev.category, urgency=Urgency.URGENT,
        people_involved=1, street=ev.location.street, sources=(("citizen_app", case_id),), at=at,
    )  # fmt: skip
    return [Change(event=EventRow.of(ev, f"dispatch.{district}")), state_change(loop)]


def store_with(*batches: list[Change]) -> SqliteCaseStore:
    store = SqliteCaseStore(None)
    for batch in batches:
        store.apply(batch, {})
    return store


def test_the_overview_counts_reports_cases_and_merges_against_last_week() -> None:
    again = event(
        "c1", "nanshan", at=MONDAY + timedelta(hours=11), channel=Channel.PETITION_WINDOW,
        event_type=EventType.DUPLICATE_REPORT,
    )  # fmt: skip
    store = store_with(
        opened("c1", "nanshan", MONDAY + timedelta(hours=9), street="南头"),
        opened("c2", "nanshan", MONDAY + timedelta(hours=10), channel=Channel.HOTLINE_12351),
        opened("c0", "futian", MONDAY - timedelta(days=2)),
        [Change(event=EventRow.of(again, "dispatch.nanshan"))],
    )
    r = gather(store, Week.holding(NOW, NOW, CLOCK), CAL)
    assert (r.this.new_cases, r.this.reports, r.this.merged_across_channels) == (2, 3, 1)
    assert r.this.by_channel == {
        "citizen_app": (1, 1), "hotline_12351": (1, 1), "petition_window": (0, 1)
    }  # fmt: skip
    assert (r.last.new_cases, r.last.reports) == (1, 1)
    assert r.trend[-1] == ("2026-W49", 2, 3)
    assert r.trend[-2] == ("2026-W48", 1, 1)
    assert len(r.trend) == 12
    assert r.streets == [("nanshan", "南头", 1)]
    assert r.categories == {"wage_arrears": (2, 1)}
    # A district's report sees its own district only.
    futian = gather(store, Week.holding(NOW, NOW, CLOCK), CAL, district="futian")
    assert (futian.this.new_cases, futian.last.new_cases) == (0, 1)
    assert futian.scopes == ["futian"]


def test_the_district_table_is_the_stats_figures_ranked_from_30_cases_floor_marked() -> None:
    batches = [opened(f"n{i}", "nanshan", MONDAY + timedelta(minutes=i)) for i in range(30)]
    batches += [opened(f"f{i}", "futian", MONDAY + timedelta(minutes=i)) for i in range(3)]
    store = store_with(*batches)
    # Futian: a visit answered dissatisfied (满意率 0 % < the floor).
    case = open_case(
        CAL, case_id="f0", district="futian", category=Category.WAGE_ARREARS,
        urgency=Urgency.URGENT, people_involved=1, street=None,
        sources=(("citizen_app", "f0"),), at=MONDAY,
    )  # fmt: skip
    for kind, extra in (("accept", {}), ("resolve", {"result": "resolved"})):
        case = act(case, kind, MONDAY + timedelta(hours=2), **extra)
    case = act(case, "visit", MONDAY + timedelta(hours=5), satisfaction="dissatisfied")
    store.apply([state_change(case)], {})
    week = Week.holding(NOW, NOW, CLOCK)
    r = gather(store, week, CAL, satisfaction_floor=0.8)
    expected = compute(store.states(), week.start, week.end, NOW, CAL)
    for scope in ("nanshan", "futian", "city"):
        assert r.figures[scope].dispatched == expected[scope].dispatched
        assert r.figures[scope].resolve_rate == expected[scope].resolve_rate
    assert r.ranks == {"nanshan": 1}  # futian has 3 cases: not ranked
    assert [c.case_id for c in r.dissatisfied] == ["f0"]
    page = html_of(r)
    futian_row = re.search(r'<tr class="below\s*" data-district="futian">', page)
    assert futian_row is not None, "futian's row is highlighted below the floor"
    assert 'class=" " data-district="nanshan"' in page or 'data-district="nanshan"' in page
    assert re.search(r'<tr class="below[^"]*" data-district="nanshan">', page) is None


def test_the_supervision_list_is_every_overdue_case_oldest_first_with_its_level() -> None:
    batches = [
        opened("late", "nanshan", MONDAY - timedelta(days=6)),
        opened("later", "futian", MONDAY - timedelta(days=3)),
        opened("fresh", "nanshan", NOW - timedelta(hours=1)),
    ]
    store = store_with(*batches)
    late = store.case("late")
    assert late is not None
    due = late.clocks[ClockName.ACCEPT].due_at
    assert due is not None
    escalated = SlaAlert(
        alert_id="s1", case_id="late", district="nanshan", clock="accept", level="escalated",
        reopening=0, due_at=due, level_at=due, raised_at=due, urgency=late.urgency,
        category=late.category,
    )  # fmt: skip
    store.apply([Change(sla=SlaRow.of(escalated))], {})
    r = gather(store, Week.holding(NOW, NOW, CLOCK), CAL)
    assert [(o.case_id, o.clock, o.level) for o in r.overdue] == [
        ("late", "accept", "escalated"),
        ("later", "accept", "overdue"),
    ]
    # The same person_key each time: one report this week, three in the 12 weeks.
    assert r.repeaters == [("pk000001abab", 1, 3, 3)]


def test_the_week_is_an_iso_week_in_cst_on_the_loop_clock() -> None:
    week = Week.parse("2026-W49", NOW, CLOCK)
    assert (week.start, week.end, week.label) == (MONDAY, MONDAY + timedelta(days=7), "2026-W49")
    assert week.at == NOW
    assert Week.parse("2026-W48", NOW, CLOCK).at == MONDAY
    fast = LoopClock(1440, datetime(2026, 11, 1, tzinfo=UTC))
    wall_lo, _ = Week.holding(NOW, NOW, fast).wall_us()
    assert fast.at(datetime.fromtimestamp(wall_lo / 1e6, UTC)) == MONDAY
    for bad in ("2026-49", "2026-W54", "W49"):
        with pytest.raises(ConfigError, match="--week"):
            Week.parse(bad, NOW, CLOCK)
