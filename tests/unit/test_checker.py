"""The ground-truth checker on small hand-made topic contents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from checker import CheckReport, Expectations, ExpectationsError, Message, Observed, check

A1 = ("citizen_app", "A1")
H1 = ("hotline_12351", "H1")
P2 = ("provincial_petition", "P2")
A2 = ("citizen_app", "A2")
L1 = ("legal_stations", "L1")
W1 = ("petition_window", "W1")
FIRST = ["duplicate_report", "new_case"]


def _version(ref: tuple[str, str], version: str, case: str, events: list[str]) -> dict[str, Any]:
    return {
        "channel": ref[0],
        "external_id": ref[1],
        "version": version,
        "case_id": case,
        "events": events,
        "events_live": events,
    }


def _truth() -> dict[str, Any]:
    """Four cases: A1+H1+P2 in nanshan (P2 may merge), A2 unplaced, L1 in futian, W1 baoan."""
    versions = [
        _version(A1, "1", "c1", FIRST),
        _version(A1, "2", "c1", ["case_updated"]),
        _version(H1, "u1", "c1", FIRST),
        _version(P2, "1", "c1", [*FIRST, "case_merged"]),
        _version(A2, "1", "c2", ["new_case"]),
        _version(L1, "t1", "c3", ["new_case"]),
        _version(W1, "B7#2", "c4", ["new_case"]),
    ]
    possible = [*versions, dict(_version(W1, "B7#1", "c4", []), events_live=["new_case"])]
    return {
        "expected_versions": [_key(v) for v in versions],
        "possible_versions": [_key(v) for v in possible],
        "versions": possible,
        "cases": [
            {"case_id": "c1", "reports": [A1, H1, P2], "placements": ["nanshan"]},
            {"case_id": "c2", "reports": [A2], "placements": ["triage:unplaced"]},
            {"case_id": "c3", "reports": [L1], "placements": ["futian"]},
            {"case_id": "c4", "reports": [W1], "placements": ["baoan"]},
        ],
        "alerts": [
            {
                "kind": "mass_report",
                "employer_key": "e1",
                "trigger": [L1],
                "members": [L1],
                "persons": 1,
            },
        ],
        "dead_letters": [
            {
                "channel": "petition_window",
                "external_id": "W9",
                "kind": "csv_wrong_cell_count",
                "source": "B7",
            },
        ],
    }


def _key(v: dict[str, Any]) -> dict[str, str]:
    return {k: v[k] for k in ("channel", "external_id", "version")}


def _event(
    event_id: str,
    event_type: str,
    case_id: str,
    ref: tuple[str, str],
    version: str,
    where: str,
    *,
    merged: tuple[str, ...] = (),
    summary: str = "拖欠工资三个月",
    offset: int = 0,
) -> Message:
    triage = where.startswith("triage:")
    value = {
        "schema": "unionhub.dispatch/1",
        "event_id": event_id,
        "event_type": event_type,
        "case_id": case_id,
        "district": None if triage else where,
        "triage_reason": where.removeprefix("triage:") if triage else None,
        "report": {"channel": ref[0], "external_id": ref[1], "version": version},
        "merged_case_ids": list(merged),
        "complainant": {"name_masked": "陈*", "phone_masked": "138****5678", "person_key": "p"},
        "summary": summary,
    }
    target = "triage" if triage else where
    return Message(f"dispatch.{target}", 0, offset, value, target)


def _correct_events() -> list[Message]:
    return [
        _event("e1", "new_case", "C-A1", A1, "1", "nanshan"),
        _event("e2", "case_updated", "C-A1", A1, "2", "nanshan"),
        _event("e3", "duplicate_report", "C-A1", H1, "u1", "nanshan"),
        _event("e4", "duplicate_report", "C-A1", P2, "1", "nanshan"),
        _event("e5", "new_case", "C-A2", A2, "1", "triage:unplaced"),
        _event("e6", "new_case", "C-L1", L1, "t1", "futian"),
        _event("e7", "new_case", "C-W1", W1, "B7#2", "baoan"),
    ]


def _alert(alert_id: str, kind: str, employer_key: str | None, cases: list[str]) -> Message:
    value = {"schema": "unionhub.alert/1", "alert_id": alert_id, "kind": kind,
             "employer_key": employer_key, "case_ids": cases}  # fmt: skip
    return Message("alerts.risk", 0, 0, value)


def _dead_letter(channel: str, external_id: str | None, kind: str, source: str) -> Message:
    value = {"schema": "unionhub.deadletter/1", "stage": "intake", "channel": channel,
             "external_id": external_id, "error": {"kind": kind, "message": "m"},
             "source": source}  # fmt: skip
    return Message("intake.dlq", 0, 0, value)


def _observed(
    dispatch: list[Message] | None = None,
    alerts: list[Message] | None = None,
    dead: list[Message] | None = None,
) -> Observed:
    return Observed(
        dispatch=_correct_events() if dispatch is None else dispatch,
        alerts=[_alert("a1", "mass_report", "k1", ["C-L1"])] if alerts is None else alerts,
        dead_letters=(
            [_dead_letter("petition_window", "W9", "csv_wrong_cell_count", "B7")]
            if dead is None
            else dead
        ),
    )


def _check(observed: Observed, **kwargs: Any) -> CheckReport:
    return check(Expectations.from_document(_truth()), observed, **kwargs)


def test_a_correct_run_is_ok_with_every_figure_counted() -> None:
    report = _check(_observed())
    assert report.ok, report.format()
    assert report.figures() == {
        "versions_expected": 7, "versions_dispatched": 7, "events": 7, "lost": 0,
        "dispatched_twice": 0, "unexpected_versions": 0, "misrouted_cases": 0,
        "wrongly_merged": 0, "wrongly_split": 0, "wrong_event_types": 0,
        "alerts_expected": 1, "alerts_published": 1, "alerts_missing": 0, "alerts_extra": 0,
        "alerts_wrong": 0, "dead_letters_expected": 1, "dead_letters_found": 1,
        "dead_letters_unexpected": 0, "pii_leaks": 0, "malformed_messages": 0,
        "dead_letters_missing": 0,
    }  # fmt: skip
    assert report.problems == []


def test_a_lost_report_version_is_counted_and_named() -> None:
    events = [m for m in _correct_events() if m.value and m.value["event_id"] != "e2"]
    report = _check(_observed(dispatch=events))
    assert report.lost == 1
    assert "lost: citizen_app/A1/2" in report.problems
    assert not report.ok


def test_a_version_dead_lettered_instead_is_not_lost_but_an_unexpected_dead_letter() -> None:
    events = [m for m in _correct_events() if m.value and m.value["event_id"] != "e2"]
    dead = [
        _dead_letter("petition_window", "W9", "csv_wrong_cell_count", "B7"),
        _dead_letter("citizen_app", "A1", "processor_error", "topic-0-5"),
    ]
    report = _check(_observed(dispatch=events, dead=dead))
    assert (report.lost, report.dead_letters_unexpected) == (0, 1)
    assert not report.ok


def test_a_refused_reply_excuses_no_lost_version_and_is_no_unexpected_dead_letter() -> None:
    events = [m for m in _correct_events() if m.value and m.value["event_id"] != "e2"]
    dead = [
        _dead_letter("petition_window", "W9", "csv_wrong_cell_count", "B7"),
        _dead_letter("citizen_app", "A1", "reply_refused", "cases.state@0:3"),
    ]
    report = _check(_observed(dispatch=events, dead=dead))
    assert (report.lost, report.dead_letters_unexpected) == (1, 0)
    assert _check(_observed(dead=dead)).ok  # the chaos run judges the replies


def test_a_version_in_two_events_or_one_event_twice_on_a_topic_is_a_duplicate() -> None:
    second = _event("e3-again", "duplicate_report", "C-A1", H1, "u1", "nanshan")
    report = _check(_observed(dispatch=[*_correct_events(), second]))
    assert report.dispatched_twice == 1
    assert report.events == 8
    assert "dispatched twice: hotline_12351/H1/u1" in report.problems

    replayed = _event("e6", "new_case", "C-L1", L1, "t1", "futian", offset=9)
    report = _check(_observed(dispatch=[*_correct_events(), replayed]))
    assert report.dispatched_twice == 1
    assert not report.ok


def test_a_case_merged_event_on_several_topics_counts_once() -> None:
    """P2 links A1's case with H1's, which had been dispatched apart (both in nanshan here)."""
    events = [
        _event("e1", "new_case", "C-A1", A1, "1", "nanshan"),
        _event("e2", "case_updated", "C-A1", A1, "2", "nanshan"),
        _event("e3", "new_case", "C-H1", H1, "u1", "nanshan"),
        _event("e4", "case_merged", "C-A1", P2, "1", "nanshan", merged=("C-H1",)),
        *_correct_events()[4:],
    ]
    report = _check(_observed(dispatch=events))
    assert report.ok, report.format()
    # The same event also published to a second topic (where a merged case lived) is one event.
    copy = Message("dispatch.futian", 0, 3, events[3].value, "futian")
    report = _check(_observed(dispatch=[*events, copy]))
    assert (report.events, report.dispatched_twice, report.misrouted_cases) == (7, 0, 0)


def test_a_case_in_the_wrong_district_or_triage_reason_is_misrouted() -> None:
    events = _correct_events()
    events[4] = _event("e5", "new_case", "C-A2", A2, "1", "triage:outside_jurisdiction")
    events[5] = _event("e6", "new_case", "C-L1", L1, "t1", "nanshan")
    report = _check(_observed(dispatch=events))
    assert report.misrouted_cases == 2
    assert not report.ok


def test_events_of_one_case_on_another_topic_than_their_fields_say_are_misrouted() -> None:
    events = _correct_events()
    value = dict(events[1].value or {})
    events[1] = Message("dispatch.futian", 0, 0, value, "futian")  # says nanshan, is on futian
    report = _check(_observed(dispatch=events))
    assert report.misrouted_cases == 1


def test_two_truth_cases_published_as_one_are_wrongly_merged() -> None:
    events = _correct_events()
    events[6] = _event("e7", "duplicate_report", "C-L1", W1, "B7#2", "baoan")
    report = _check(_observed(dispatch=events))
    assert report.wrongly_merged == 1
    assert report.wrongly_split == 0
    assert report.wrong_event_types == 1  # W1 alone in its case: only new_case is right
    assert not report.ok


def test_a_wrong_merge_through_a_case_merged_chain_is_caught() -> None:
    events = [
        *_correct_events()[:6],
        _event("e7", "case_merged", "C-W1", W1, "B7#2", "baoan", merged=("C-L1",)),
    ]
    report = _check(_observed(dispatch=events))
    assert report.wrongly_merged == 1


def test_one_truth_case_published_as_two_is_wrongly_split() -> None:
    events = _correct_events()
    events[2] = _event("e3", "new_case", "C-H1", H1, "u1", "nanshan")
    report = _check(_observed(dispatch=events))
    assert (report.wrongly_split, report.wrongly_merged) == (1, 0)
    assert not report.ok


def test_an_event_type_the_truth_does_not_accept_is_counted() -> None:
    events = _correct_events()
    events[1] = _event("e2", "new_case", "C-A1", A1, "2", "nanshan")
    report = _check(_observed(dispatch=events))
    assert report.wrong_event_types == 1


def test_a_version_the_truth_does_not_know_is_unexpected() -> None:
    extra = _event("e9", "case_updated", "C-A2", A2, "7", "triage:unplaced")
    report = _check(_observed(dispatch=[*_correct_events(), extra]))
    assert report.unexpected_versions == 1
    assert not report.ok


def test_a_petition_row_read_in_an_earlier_revision_keeps_that_label_and_is_not_lost() -> None:
    events = _correct_events()
    events[6] = _event("e7", "new_case", "C-W1", W1, "B7#1", "baoan")
    report = _check(_observed(dispatch=events))
    assert report.ok, report.format()
    settled = _check(_observed(dispatch=events), live=False)
    assert (settled.unexpected_versions, settled.lost, settled.wrong_event_types) == (1, 1, 1)


def test_missing_extra_and_wrong_alerts() -> None:
    assert _check(_observed(alerts=[])).alerts_missing == 1
    other_kind = _alert("a1", "group_dispute", "k1", ["C-L1"])
    report = _check(_observed(alerts=[other_kind]))
    assert (report.alerts_missing, report.alerts_extra) == (1, 1)
    more_cases = _alert("a1", "mass_report", "k1", ["C-L1", "C-W1"])
    report = _check(_observed(alerts=[more_cases]))
    assert (report.alerts_missing, report.alerts_extra, report.alerts_wrong) == (0, 0, 1)
    no_employer = _alert("a1", "mass_report", None, ["C-L1"])
    assert _check(_observed(alerts=[no_employer])).alerts_wrong == 1
    assert not report.ok


def test_the_last_version_of_a_republished_alert_is_the_one_judged() -> None:
    first = _alert("a1", "mass_report", "k1", ["C-W1"])
    report = _check(_observed(alerts=[first, _alert("a1", "mass_report", "k1", ["C-L1"])]))
    assert report.ok, report.format()
    assert report.alerts_published == 1


def test_dead_letters_missing_unexpected_and_matched_without_an_id() -> None:
    assert _check(_observed(dead=[])).dead_letters_missing == 1
    unreadable = _dead_letter("petition_window", None, "csv_wrong_cell_count", "exports/B7.csv")
    report = _check(_observed(dead=[unreadable, unreadable]))
    assert (report.dead_letters_found, report.dead_letters_unexpected) == (1, 0)
    stray = _dead_letter("hotline_12351", "H5", "invalid_timestamp", "page 1")
    report = _check(_observed(dead=[unreadable, stray]))
    assert report.dead_letters_unexpected == 1
    assert not report.ok


def test_clear_phone_or_id_numbers_and_given_terms_are_leaks() -> None:
    events = _correct_events()
    events[0] = _event("e1", "new_case", "C-A1", A1, "1", "nanshan", summary="电话13812345678")
    events[1] = _event(
        "e2", "case_updated", "C-A1", A1, "2", "nanshan", summary="身份证44030119900101123X"
    )
    assert _check(_observed(dispatch=events)).pii_leaks == 2
    masked = _event("e1", "new_case", "C-A1", A1, "1", "nanshan", summary="电话138****5678 张三")
    clean = [masked, *_correct_events()[1:]]
    assert _check(_observed(dispatch=clean)).pii_leaks == 0
    assert _check(_observed(dispatch=clean), pii_terms=["张三"]).pii_leaks == 1


def test_identifier_fields_are_not_mistaken_for_phone_numbers() -> None:
    events = _correct_events()
    value = dict(events[0].value or {}, event_id="evt-a13812345678b", case_id="13912345678")
    events[0] = Message("dispatch.nanshan", 0, 0, value, "nanshan")
    report = _check(_observed(dispatch=events))
    assert report.pii_leaks == 0


def test_values_that_break_the_contract_are_malformed() -> None:
    garbage = Message.decode("dispatch.nanshan", 0, 5, b"not json", "nanshan")
    no_report = Message("dispatch.nanshan", 0, 6, {"event_id": "x"}, "nanshan")
    report = _check(_observed(dispatch=[*_correct_events(), garbage, no_report]))
    assert report.malformed_messages == 2
    assert not report.ok


def test_format_prints_every_figure_the_verdict_and_the_problems() -> None:
    events = [m for m in _correct_events() if m.value and m.value["event_id"] != "e6"]
    text = _check(_observed(dispatch=events)).format()
    for name in ("lost", "dispatched_twice", "misrouted_cases", "wrongly_merged", "pii_leaks"):
        assert name in text
    assert "FAILED" in text
    assert "lost: legal_stations/L1/t1" in text
    assert "OK" in _check(_observed()).format().splitlines()[-1]


def test_expectations_load_reports_bad_files_clearly(tmp_path: Path) -> None:
    with pytest.raises(ExpectationsError, match="cannot read"):
        Expectations.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ExpectationsError, match="not JSON"):
        Expectations.load(bad)
    bad.write_bytes(orjson.dumps({"expected_versions": []}))
    with pytest.raises(ExpectationsError, match="possible_versions"):
        Expectations.load(bad)
    good = tmp_path / "expected.json"
    good.write_bytes(orjson.dumps(_truth()))
    assert len(Expectations.load(good).settled) == 7
