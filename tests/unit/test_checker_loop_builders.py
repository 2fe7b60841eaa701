"""Hand-built case-loop timelines for the checker's loop tests, and a perfect router's output.

:class:`World` writes what a run's topics would hold: dispatch events, risk
alerts, actions on the action topics and refusals on ``router.dlq``, at given
CST times (speed 1: loop time is wall time). :meth:`World.publish` adds the
``cases.state`` and ``alerts.sla`` a router agreeing with the checker would
have written, so a test can break one thing and see one counter fail.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from checker.loop import LoopTime, LoopTruth, WorkingDays, read_inputs, replay
from checker.loop.case import CaseTruth, ExpectedAlert
from checker.loop.inputs import LoopInputs
from checker.loop.workdays import CST
from checker.observed import Message, Observed
from core.kafka.topics import TopicCatalog


def cst(text: str) -> datetime:
    """A CST time from ``2026-12-07T10:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def iso(at: datetime | None) -> str | None:
    """UTC ISO-8601 text as the router writes it."""
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class World:
    """The topics of one hand-built run."""

    def __init__(self) -> None:
        self.observed = Observed()
        self._offsets: Counter[str] = Counter()
        self._ids = 0

    def _message(self, topic: str, value: dict[str, Any] | None, **extra: Any) -> Message:
        offset = self._offsets[topic]
        self._offsets[topic] += 1
        return Message(topic, 0, offset, value, **extra)

    def new_case(
        self,
        case_id: str,
        at: str,
        district: str | None = "nanshan",
        *,
        category: str = "labor_contract",
        people: int = 1,
    ) -> None:
        """A ``new_case`` event (``district`` None: dispatch.triage)."""
        self._event("new_case", case_id, at, district, category=category, people=people)

    def report(self, case_id: str, at: str, *, merged: tuple[str, ...] = ()) -> None:
        """A ``duplicate_report`` (or, with ``merged``, a ``case_merged``) event."""
        kind = "case_merged" if merged else "duplicate_report"
        self._event(kind, case_id, at, "nanshan", merged=merged, reports=2)

    def _event(
        self,
        kind: str,
        case_id: str,
        at: str,
        district: str | None,
        *,
        category: str = "labor_contract",
        people: int = 1,
        merged: tuple[str, ...] = (),
        reports: int = 1,
    ) -> None:
        self._ids += 1
        target = district or "triage"
        value = {
            "schema": "unionhub.dispatch/1",
            "event_id": f"evt-{self._ids}",
            "event_type": kind,
            "case_id": case_id,
            "district": district,
            "triage_reason": None if district else "unplaced",
            "category": category,
            "report": {"channel": "citizen_app", "external_id": f"A{self._ids}", "version": "1"},
            "sources": [
                {"channel": "citizen_app", "external_id": f"{case_id}-{i}"} for i in range(reports)
            ],
            "merged_case_ids": list(merged),
            "people_involved": people,
            "dispatched_at": iso(cst(at)),
        }
        self.observed.dispatch.append(
            self._message(f"dispatch.{target}", value, dispatch_target=target)
        )

    def risk(self, case_ids: list[str], at: str) -> None:
        """A version of a risk alert holding ``case_ids``."""
        value = {"alert_id": "risk-1", "kind": "group_dispute", "case_ids": case_ids,
                 "raised_at": iso(cst(at)), "updated_at": iso(cst(at))}  # fmt: skip
        self.observed.alerts.append(self._message("alerts.risk", value))

    def act(self, who: str, case_id: str, action: str, at: str, **fields: Any) -> str:
        """An action on ``who``'s topic (its ``actor`` too, unless given); returns its id."""
        self._ids += 1
        action_id = fields.pop("action_id", f"act-{self._ids}")
        defaults: dict[str, Any] = {
            "suspend": {"reason": "劳动仲裁"},
            "resolve": {"result": "resolved"},
            "assign": {"to_district": "futian"},
            "visit": {"satisfaction": "satisfied"},
        }.get(action, {})
        value = {
            "schema": "unionhub.case_action/1",
            "action_id": action_id,
            "case_id": case_id,
            "actor": who,
            "action": action,
            "at": iso(cst(at)),
            **defaults,
            **fields,
        }
        self.observed.actions.append(self._message(f"cases.actions.{who}", value))
        return str(action_id)

    def refuse(self, action_id: str | None, kind: str = "action_refused.state", **kw: Any) -> None:
        """A refusal of the router on ``router.dlq``."""
        value = {"schema": "unionhub.deadletter/1", "stage": "router", "channel": None,
                 "connector": "nanshan", "external_id": action_id,
                 "error": {"kind": kind, "message": "m"}, "raw": "{}", "raw_encoding": "utf-8",
                 "source": kw.get("source", "unionhub.router.normalized-0-9")}  # fmt: skip
        self.observed.dead_letters.append(self._message("router.dlq", value))

    # --- reading it back ------------------------------------------------------------------

    def inputs(self) -> LoopInputs:
        """The checker's reading of the inputs."""
        return read_inputs(self.observed, LoopTime(), TopicCatalog())

    def truth(self, at: str) -> LoopTruth:
        """The checker's replay at CST time ``at``."""
        return replay(self.inputs(), WorkingDays(), cst(at))

    def publish(self, at: str) -> LoopTruth:
        """Write what a router agreeing with the checker would have written by ``at``
        (states, SLA alerts, case moves, refusals not written yet)."""
        truth = self.truth(at)
        for case in truth.live_cases().values():
            self.observed.case_states.append(
                self._message("cases.state", state_value(case), key=case.case_id)
            )
        for alert in truth.alerts:
            self.observed.sla_alerts.append(self._message("alerts.sla", alert_value(alert)))
        for move in truth.moves:
            self._event(move.event_type, move.case_id, at, move.district)
        refused = {r.action_id for r in self.inputs().refusals} | {
            r.source for r in self.inputs().refusals
        }
        for verdict in truth.verdicts:
            sent = verdict.sent
            if verdict.outcome == "refused" and not {sent.action_id, sent.source} & refused:
                self.refuse(sent.action_id, source=sent.source)
        return truth


def state_value(case: CaseTruth) -> dict[str, Any]:
    """The ``unionhub.case/1`` value of an expected case."""
    history = [
        {
            "action_id": a.action_id,
            "action": a.action,
            "actor": a.actor,
            "at": iso(a.at),
            "detail": a.detail,
        }
        for a in case.history
    ]
    history += [
        {
            "action_id": f"{kind}-{i}",
            "action": kind,
            "actor": "unionhub",
            "at": iso(at),
            "detail": None,
        }
        for i, (at, kind) in enumerate(case.loop_events)
    ]
    return {
        "schema": "unionhub.case/1",
        "case_id": case.case_id,
        "version": 1,
        "district": case.district,
        "category": case.category,
        "urgency": case.urgency,
        "status": case.status,
        "clocks": {
            name: {
                "started_at": iso(c.since),
                "due_at": iso(c.due),
                "met_at": iso(c.met),
                "state": c.state,
                "unit": c.unit,
            }
            for name, c in case.clocks.items()
        },
        "runs": [
            {"started_at": iso(r.started), "due_at": iso(r.due), "resolved_at": iso(r.resolved)}
            for r in case.runs
        ],
        "reopened": case.reopened,
        "returned": case.returned,
        "satisfaction": case.satisfaction,
        "result": case.result,
        "resolved_at": iso(case.resolved_at),
        "closed_at": iso(case.closed_at),
        "dispatched_at": iso(case.dispatched_at),
        "sources": [{"channel": ch, "external_id": x} for ch, x in sorted(case.sources)],
        "history": history,
        "updated_at": iso(case.dispatched_at),
    }


def alert_value(alert: ExpectedAlert, delay: timedelta = timedelta(seconds=1)) -> dict[str, Any]:
    """The ``unionhub.sla_alert/1`` value of an expected alert, raised ``delay`` late."""
    return {
        "schema": "unionhub.sla_alert/1",
        "alert_id": f"sla-{alert.case_id}-{alert.clock}-{alert.level}-{alert.restart}",
        "case_id": alert.case_id,
        "district": alert.district,
        "clock": alert.clock,
        "level": alert.level,
        "reopening": alert.restart,
        "due_at": iso(alert.due_at),
        "level_at": iso(alert.level_at),
        "raised_at": iso(alert.level_at + delay),
        "urgency": alert.urgency,
        "category": alert.category,
    }


def test_a_world_reads_back_in_time_order() -> None:
    world = World()
    world.act("nanshan", "C1", "accept", "2026-12-07T11:00")
    world.new_case("C1", "2026-12-07T10:00")
    assert [type(i).__name__ for i in world.inputs().timeline] == ["Opened", "Acted"]
