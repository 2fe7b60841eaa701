"""Risk alerts: group_dispute, mass_report, one alert per employer and kind while open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from router.dispatch.alerts import AlertTracker, count_persons
from router.dispatch.engine import DedupeEngine
from router.dispatch.state.store import DispatchStore
from schemas.alert import AlertKind
from schemas.complaint import NormalizedReport
from tests.unit.router_builders import T0, id_number, mobile, report

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Feed:
    """Feeds reports to the engine, then the tracker, over one store, as the dispatch stage does.

    The tracker's per-employer history is the store's index of the engine's reports.
    """

    def __init__(self) -> None:
        self.store = DispatchStore()
        self.engine = DedupeEngine(self.store)
        self.tracker = AlertTracker(self.store)

    def add(self, r: NormalizedReport) -> list[tuple[str, AlertKind, int, int]]:
        outcome = self.engine.observe(r)
        changed = self.tracker.observe(outcome.seq, outcome.report_key, r, "nanshan", NOW)
        return [
            (a.alert_id, a.kind, len(a.members), count_persons(m.person_tokens for m in a.members))
            for a in changed
        ]


def person(i: int, days: float = 0, **kw: object) -> NormalizedReport:
    return report(
        appeal_id=f"P{i}-{days}",
        phone=mobile(i),
        at=T0 + timedelta(days=days),
        **kw,
    )


def test_five_distinct_persons_within_seven_days_raise_group_dispute() -> None:
    feed = Feed()
    for i in range(4):
        assert feed.add(person(i, days=i)) == []
    raised = feed.add(person(4, days=7))
    assert len(raised) == 1
    _, kind, members, persons = raised[0]
    assert kind is AlertKind.GROUP_DISPUTE
    assert (members, persons) == (5, 5)


def test_persons_spread_over_more_than_seven_days_raise_nothing() -> None:
    feed = Feed()
    for i in range(4):
        feed.add(person(i, days=i))
    assert feed.add(person(4, days=7.5)) == []


def test_same_person_twice_counts_once_and_anonymous_reports_do_not_count() -> None:
    feed = Feed()
    for i in range(4):
        feed.add(person(i))
    assert feed.add(person(0, days=1)) == []  # a fifth report, but the same person again
    assert feed.add(report(appeal_id="anon", name=None, phone=None, content="匿名")) == []
    raised = feed.add(person(5, days=2))
    assert [(k, p) for _, k, _, p in raised] == [(AlertKind.GROUP_DISPUTE, 5)]


def test_persons_are_linked_by_phone_or_id() -> None:
    assert count_persons([["a"], ["a", "b"], ["b"], ["c"], []]) == 2


def test_further_reports_update_the_open_alert_instead_of_raising_another() -> None:
    feed = Feed()
    for i in range(4):
        feed.add(person(i))
    ((alert_id, _, _, _),) = feed.add(person(4))
    updated = feed.add(person(5, days=3))
    assert updated == [(alert_id, AlertKind.GROUP_DISPUTE, 6, 6)]
    for i in range(6, 12):
        ((same, kind, _, _),) = feed.add(person(i, days=5))
        assert (same, kind) == (alert_id, AlertKind.GROUP_DISPUTE)
    # Once closed (more than 7 days after the raising report), a new group may raise anew.
    for i in range(20, 24):
        assert feed.add(person(i, days=30)) == []
    ((new_id, kind, members, _),) = feed.add(person(24, days=30))
    assert new_id != alert_id
    assert (kind, members) == (AlertKind.GROUP_DISPUTE, 5)


def test_other_employers_do_not_join() -> None:
    feed = Feed()
    for i in range(4):
        feed.add(person(i))
    assert feed.add(person(4, employer="深圳市另一家公司")) == []


def test_mass_report_and_its_deduplication() -> None:
    feed = Feed()
    ((alert_id, kind, members, _),) = feed.add(person(1, people=12))
    assert (kind, members) == (AlertKind.MASS_REPORT, 1)
    # Another mass report against the same employer while open: same alert, updated.
    assert feed.add(person(2, days=2, people=30)) == [(alert_id, AlertKind.MASS_REPORT, 2, 2)]
    # A small report against the same employer joins it too.
    assert feed.add(person(3, days=3)) == [(alert_id, AlertKind.MASS_REPORT, 3, 3)]
    # After the window, a new mass report raises a new alert.
    ((later, _, _, _),) = feed.add(person(4, days=10, people=10))
    assert later != alert_id
    assert feed.add(person(5, days=11, people=9)) == [(later, AlertKind.MASS_REPORT, 2, 2)]


def test_mass_report_takes_in_reports_of_its_window_that_arrived_before_it() -> None:
    """A backlog mass report delivered after the live reports it covers: same alert as in
    report-time order (the window runs from the raising report's time, 7 days on)."""
    feed = Feed()
    feed.add(person(1, days=-2))  # before the window: stays out
    feed.add(person(2, days=1))
    feed.add(report(appeal_id="anon", name=None, phone=None, content="匿名", at=T0 + timedelta(3)))
    feed.add(person(3, days=8))  # after the window: stays out
    ((alert_id, kind, members, persons),) = feed.add(person(4, people=12))
    assert (kind, members, persons) == (AlertKind.MASS_REPORT, 3, 2)
    alert = feed.tracker.alert(alert_id)
    assert alert is not None
    assert sorted(m.reported_at for m in alert.members) == [
        T0,
        T0 + timedelta(days=1),
        T0 + timedelta(days=3),
    ]


def test_a_report_from_before_a_mass_report_that_arrives_after_it_does_not_join() -> None:
    """Open for the 7 days after the raising report: an earlier report delivered late stays
    out, as it would in report-time order (found by the chaos run, seed 8)."""
    feed = Feed()
    feed.add(person(1, people=12))
    assert feed.add(person(2, days=-0.001)) == []
    assert len(feed.add(person(3, days=0.001))) == 1  # one after it joins


def test_mass_report_without_employer_is_its_own_alert() -> None:
    feed = Feed()
    ((first, kind, _, _),) = feed.add(person(1, employer=None, people=15))
    ((second, _, _, _),) = feed.add(person(2, employer=None, people=15))
    assert kind is AlertKind.MASS_REPORT
    assert first != second


def test_alert_ids_are_deterministic_and_state_restores() -> None:
    def run(feed: Feed) -> list[tuple[str, AlertKind, int, int]]:
        out = []
        for i in range(5):
            out += feed.add(person(i))
        return out

    one, two = Feed(), Feed()
    assert run(one) == run(two)
    changelog = dict(one.store.take())
    assert any(one.tracker.owns(key) for key in changelog)
    restored = Feed()
    for key, value in changelog.items():
        restored.store.restore(key, value)
    restored.store.committed({0: len(changelog)})
    assert restored.store.checkpoint() == {0: len(changelog)}
    assert restored.add(person(9, days=1)) == one.add(person(9, days=1))
    assert restored.store.take() == one.store.take()


def test_id_numbers_identify_persons_too() -> None:
    feed = Feed()
    for i in range(4):
        feed.add(report(appeal_id=f"I{i}", phone=None, id_no=id_number(i)))
    raised = feed.add(report(appeal_id="I4", phone=None, id_no=id_number(4)))
    assert [k for _, k, _, _ in raised] == [AlertKind.GROUP_DISPUTE]
