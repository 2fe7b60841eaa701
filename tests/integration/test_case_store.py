"""The case store's contract, on both backends (SQLite file, a real PostgreSQL server):
rows and offsets in one transaction, tombstones, events kept once, alerts at their latest,
the case API's queries, plain SELECTs in the shared dialect, a reader beside the writer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.casedata import CAL, act, event, state_change
from caseloop.case import LoopCase
from caseloop.transitions import open_case
from core.settings import Settings
from review.store import open_case_store
from review.store.base import CaseQuery, CaseStore, Change, EventRow, Refusal, RiskRow, SlaRow
from review.store.sql import SCHEMA_VERSION
from schemas.alert import Alert, AlertKind
from schemas.caseloop import SlaAlert, Urgency
from schemas.complaint import Category

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(store_settings: Settings) -> Iterator[CaseStore]:
    opened = open_case_store(store_settings)
    yield opened
    opened.close()


def loop_case(case_id: str, district: str = "nanshan", at: datetime = T0) -> LoopCase:
    return open_case(
        CAL, case_id=case_id, district=district, category=Category.WAGE_ARREARS,
        urgency=Urgency.URGENT, people_involved=1, street="南头",
        sources=(("citizen_app", case_id),), at=at,
    )  # fmt: skip


def case(case_id: str, district: str = "nanshan", at: datetime = T0) -> Change:
    return state_change(loop_case(case_id, district, at))


def risk(alert_id: str, cases: int) -> Change:
    alert = Alert(
        alert_id=alert_id, kind=AlertKind.GROUP_DISPUTE, employer=None, employer_key=None,
        district="nanshan", case_ids=[f"c{i}" for i in range(cases)], persons=cases,
        people_involved=1, window_start=T0, window_end=T0, open_until=T0 + timedelta(days=7),
        raised_at=T0, updated_at=T0 + timedelta(minutes=cases),
    )  # fmt: skip
    return Change(risk=RiskRow.of(alert))


def test_rows_and_offsets_are_written_together(store: CaseStore) -> None:
    assert store.offsets() == {}
    ev = event("case-a", "nanshan", at=T0)
    store.apply(
        [case("case-a"), Change(event=EventRow.of(ev, "dispatch.nanshan"))],
        {("cases.state", 0): 1, ("dispatch.nanshan", 2): 7},
    )
    assert store.offsets() == {("cases.state", 0): 1, ("dispatch.nanshan", 2): 7}
    assert store.case("case-a") is not None
    # A batch that fails half-way leaves neither its rows nor its offsets.
    broken = Change(event=replace(EventRow.of(ev, "dispatch.nanshan"), case_id=None))  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017, PT011 - each driver raises its own type
        store.apply([case("case-b"), broken], {("cases.state", 0): 2})
    assert store.case("case-b") is None
    assert store.offsets()[("cases.state", 0)] == 1


def test_a_tombstone_deletes_and_a_later_state_restores(store: CaseStore) -> None:
    store.apply([case("case-a"), Change(case_id="case-a")], {})
    assert store.case("case-a") is None
    store.apply([Change(case_id="case-a"), case("case-a")], {})
    assert store.case("case-a") is not None


def test_an_event_is_kept_once_and_an_alert_at_its_latest(store: CaseStore) -> None:
    ev = event("case-a", "nanshan", at=T0)
    store.apply([Change(event=EventRow.of(ev, "dispatch.nanshan"))], {})
    store.apply([Change(event=EventRow.of(ev, "dispatch.futian"))], {})  # the merge's copy
    assert store.select("SELECT topic FROM events") == [("dispatch.nanshan",)]
    store.apply([risk("alert-1", 5), risk("alert-1", 7)], {})
    assert store.select("SELECT cases, persons FROM risk_alerts") == [(7, 7)]
    state = case("case-a").state
    assert state is not None
    sla = SlaAlert(
        alert_id="sla-1", case_id="case-a", district="nanshan", clock="accept",
        level="overdue", reopening=0, due_at=T0, level_at=T0, raised_at=T0,
        urgency=state.urgency, category=state.category,
    )  # fmt: skip
    store.apply([Change(sla=SlaRow.of(sla)), Change(sla=SlaRow.of(sla))], {})
    assert store.select("SELECT case_id, level FROM sla_alerts WHERE clock = ?", ["accept"]) == [
        ("case-a", "overdue")
    ]


def test_the_case_api_queries(store: CaseStore) -> None:
    accepted = act(loop_case("case-a"), "accept", T0 + timedelta(hours=1))
    store.apply(
        [
            state_change(accepted),
            case("case-b", at=T0 + timedelta(hours=2)),
            case("case-c", "futian", at=T0 - timedelta(days=30)),
            Change(refusal=Refusal("act-1", "case-a", "action_state", "action: not now")),
        ],
        {},
    )
    page, total = store.cases(CaseQuery(district="nanshan", per_page=1))
    assert (total, [c.case_id for c in page]) == (2, ["case-b"])
    page, total = store.cases(CaseQuery(district="nanshan", page=2, per_page=1))
    assert [c.case_id for c in page] == ["case-a"]
    assert store.cases(CaseQuery(status="accepted"))[1] == 1
    overdue, _ = store.cases(CaseQuery(overdue_at=T0 + timedelta(days=5)))
    assert {c.case_id for c in overdue} == {"case-c", "case-b", "case-a"}
    assert {c.case_id for c in store.states()} == {"case-a", "case-b", "case-c"}
    touched = store.states(touched_since=T0 + timedelta(days=90))
    assert {c.case_id for c in touched} == {"case-a", "case-b", "case-c"}  # none is done
    assert store.refusal("act-1") == Refusal("act-1", "case-a", "action_state", "action: not now")
    assert store.refusal("act-2") is None


def test_plain_selects_share_one_dialect(store: CaseStore) -> None:
    store.apply([case(f"case-{i}", "nanshan" if i % 2 else "futian") for i in range(6)], {})
    rows = store.select(
        "SELECT district, count(*) FROM cases WHERE category = ? AND case_id LIKE 'case-%' "
        "GROUP BY district ORDER BY district",
        ["wage_arrears"],
    )
    assert rows == [("futian", 3), ("nanshan", 3)]


def test_meta_and_a_reader_beside_the_writer(store: CaseStore, store_settings: Settings) -> None:
    store.put_meta("loop_clock", '{"speed": 1}')
    store.apply([case("case-a")], {("cases.state", 1): 3})
    reader = open_case_store(store_settings, read_only=True)
    try:
        assert reader.meta("loop_clock") == '{"speed": 1}'
        assert reader.meta("schema_version") == SCHEMA_VERSION
        assert reader.case("case-a") is not None
        store.apply([case("case-b")], {("cases.state", 1): 4})
        assert reader.case("case-b") is not None
        with pytest.raises(Exception):  # noqa: B017, PT011 - each driver raises its own type
            reader.put_meta("x", "y")
    finally:
        reader.close()


def test_a_store_of_another_schema_version_is_rebuilt(
    store: CaseStore, store_settings: Settings
) -> None:
    store.apply([case("case-a")], {("cases.state", 0): 9})
    store.put_meta("schema_version", "0")
    store.close()
    again = open_case_store(store_settings)
    try:
        assert again.offsets() == {}
        assert again.case("case-a") is None
    finally:
        again.close()
