"""Which replies a case state owes, and their keys: one per (report, resolve or close)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sinks.tasks import reply_key, reply_tasks, transitions
from schemas.caseloop import CaseState
from schemas.channels import Channel

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def entry(action_id: str, action: str, hours: int, detail: str | None = None, **more: Any) -> Any:
    return {"action_id": action_id, "action": action, "actor": "nanshan",
            "at": (T0 + timedelta(hours=hours)).isoformat(), "detail": detail, **more}  # fmt: skip


def state(history: list[dict[str, Any]], *sources: tuple[str, str]) -> CaseState:
    return CaseState.model_validate(
        {
            "case_id": "case-1", "version": len(history) + 1, "district": "nanshan",
            "category": "wage_arrears", "urgency": "urgent", "status": "resolved", "clocks": {},
            "runs": [], "reopened": 0, "returned": 0, "satisfaction": None, "result": "resolved",
            "resolved_at": None, "closed_at": None, "dispatched_at": T0.isoformat(),
            "street": None, "history": history, "updated_at": T0.isoformat(),
            "sources": [{"channel": c, "external_id": e} for c, e in sources],
        }
    )  # fmt: skip


SOURCES = (("citizen_app", "MY-1"), ("citizen_app", "MY-2"), ("hotline_12351", "GD-1"))


def test_a_resolve_owes_one_reply_to_each_report_of_the_channel() -> None:
    case = state([entry("a1", "accept", 1), entry("r1", "resolve", 2, "resolved", reason="已支付")],
                 *SOURCES)  # fmt: skip
    tasks = reply_tasks(case, Channel.CITIZEN_APP)
    assert [(t.external_id, t.transition.kind) for t in tasks] == [
        ("MY-1", "resolved"),
        ("MY-2", "resolved"),
    ]
    assert tasks[0].words() == "办结：已解决。已支付"
    assert [t.external_id for t in reply_tasks(case, Channel.HOTLINE_12351)] == ["GD-1"]


def test_a_close_by_visit_or_by_time_repeats_the_resolve_it_closes() -> None:
    visited = [entry("r1", "resolve", 2, "explained", reason="已解释"),
               entry("v1", "visit", 30, "basically_satisfied")]  # fmt: skip
    found = transitions(state(visited, *SOURCES))
    assert [(t.kind, t.entry_id, t.result, t.reason) for t in found] == [
        ("resolved", "r1", "explained", "已解释"),
        ("closed", "v1", "explained", "已解释"),
    ]
    auto = [entry("r1", "resolve", 2, "resolved"), entry("auto-close-0", "auto_close", 360)]
    assert [t.kind for t in transitions(state(auto, *SOURCES))] == ["resolved", "closed"]


def test_a_dissatisfied_visit_closes_nothing_and_a_new_resolve_gets_new_keys() -> None:
    history = [entry("r1", "resolve", 2, "resolved"), entry("v1", "visit", 30, "dissatisfied"),
               entry("reopen-1", "reopen", 30), entry("r2", "resolve", 50, "resolved"),
               entry("n1", "note", 51)]  # fmt: skip
    tasks = reply_tasks(state(history, *SOURCES), Channel.HOTLINE_12351)
    assert [t.transition.entry_id for t in tasks] == ["r1", "r2"]
    assert tasks[0].key != tasks[1].key


def test_the_key_is_the_same_for_the_same_transition_and_differs_otherwise() -> None:
    key = reply_key(Channel.CITIZEN_APP, "MY-1", "resolved", "r1")
    assert key == reply_key(Channel.CITIZEN_APP, "MY-1", "resolved", "r1")
    assert key.startswith("uh1-")
    assert len(key) == 36
    others = {
        reply_key(Channel.CITIZEN_APP, "MY-2", "resolved", "r1"),
        reply_key(Channel.CITIZEN_APP, "MY-1", "closed", "r1"),
        reply_key(Channel.CITIZEN_APP, "MY-1", "resolved", "r2"),
        reply_key(Channel.HOTLINE_12351, "MY-1", "resolved", "r1"),
    }
    assert key not in others
    assert len(others) == 4
