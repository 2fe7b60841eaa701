"""The dispatch stage's case loop in memory: states, refusals, levels caught up before an
action, a returned case's events following it, a merged case's state deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from caseloop.calendar import WorkingDayCalendar
from caseloop.loopclock import LoopClock
from core.kafka.topics import TopicCatalog
from router.dispatch.loop import LoopSettings
from router.dispatch.processor import DispatchProcessor
from router.normalize.normalizer import Normalizer
from router.normalize.processor import NormalizeProcessor
from router.processor import InputRecord, Output
from schemas.caseloop import CaseAction, CaseState, ClockName
from tests.unit.router_builders import KEY, appeal_envelope, mobile

CATALOG = TopicCatalog("t.")
CAL = WorkingDayCalendar()
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 CST


class Loop:
    """Stage 1 and stage 2 over one clock the test moves."""

    def __init__(self) -> None:
        self.now = START
        self.stage1 = NormalizeProcessor(CATALOG, Normalizer(KEY), lambda: self.now)
        self.stage2 = DispatchProcessor(
            CATALOG, lambda: self.now, loop=LoopSettings(lambda: CAL, LoopClock())
        )
        self.offset = 0

    def _through(self, record: InputRecord) -> list[Output]:
        outputs = []
        for out in self.stage1.process(record):
            if out.topic != CATALOG.router_normalized:
                outputs.append(out)
                continue
            self.offset += 1
            outputs += self.stage2.process(
                InputRecord(out.topic, 0, self.offset, out.key, out.value, out.headers, 0)
            )
        self.stage2.take_changes()
        return outputs

    def report(self, appeal_id: str, **kw: object) -> list[Output]:
        env = appeal_envelope(appeal_id=appeal_id, **kw)
        record = InputRecord(CATALOG.raw("citizen_app"), 0, 0, None, env.to_json(), (), 0)
        return self._through(record)

    def act(
        self, actor: str, case_id: str, kind: str, action_id: str, **kw: object
    ) -> list[Output]:
        action = CaseAction.model_validate(
            {"action_id": action_id, "case_id": case_id, "actor": actor, "action": kind,
             "at": self.now.isoformat(), **kw}
        )  # fmt: skip
        record = InputRecord(CATALOG.actions(actor), 0, 0, None, action.to_json(), (), 0)
        return self._through(record)


def states(outputs: list[Output]) -> list[CaseState]:
    return [
        CaseState.model_validate_json(o.value)
        for o in outputs
        if o.topic == CATALOG.cases_state and not o.delete
    ]


def levels(outputs: list[Output]) -> list[tuple[str, str]]:
    alerts = [orjson.loads(o.value) for o in outputs if o.topic == CATALOG.sla_alerts]
    return [(a["clock"], a["level"]) for a in alerts]


def test_levels_reached_before_an_action_are_raised_with_it_not_lost() -> None:
    loop = Loop()
    (case,) = states(loop.report("MY-E1", phone=mobile(1), people=12))  # emergency: 1 h to accept
    assert case.urgency == "emergency"
    loop.now = START + timedelta(hours=1, minutes=30)  # past 100 %; no timer ran meanwhile
    outputs = loop.act("nanshan", case.case_id, "accept", "n-1")
    assert levels(outputs) == [("accept", "warning"), ("accept", "overdue")]
    (accepted,) = states(outputs)
    assert accepted.status == "accepted"
    accept = accepted.clocks[ClockName.ACCEPT]
    assert accept.met_at == loop.now
    assert accept.due_at is not None
    assert accept.due_at < accept.met_at  # late
    # Nothing raised twice afterwards.
    loop.now += timedelta(hours=3)
    assert ("accept", "escalated") not in levels(loop.stage2.punctuate())


def test_a_visit_after_the_auto_close_is_refused() -> None:
    loop = Loop()
    (case,) = states(loop.report("MY-V1", phone=mobile(2)))
    loop.act("nanshan", case.case_id, "accept", "n-1")
    loop.act("nanshan", case.case_id, "resolve", "n-2", result="resolved")
    loop.now += timedelta(days=16)
    (letter,) = loop.act("nanshan", case.case_id, "visit", "n-3", satisfaction="satisfied")
    assert letter.topic == CATALOG.router_dlq
    assert orjson.loads(letter.value)["error"]["message"] == (
        "action: visit is not allowed when the case is closed"
    )


def test_a_returned_case_goes_to_triage_and_its_later_events_follow_it() -> None:
    loop = Loop()
    (case,) = states(loop.report("MY-R1", phone=mobile(3)))
    outputs = loop.act("nanshan", case.case_id, "return", "n-1", reason="属福田区")
    (event,) = [o for o in outputs if o.topic == CATALOG.triage]
    body = orjson.loads(event.value)
    assert (body["event_type"], body["triage_reason"]) == ("case_returned", "returned")
    assert body["routing_reason"] == "returned by nanshan: 属福田区"
    outputs = loop.act("city", case.case_id, "assign", "c-1", to_district="futian")
    assert [o.topic for o in outputs if o.topic.startswith("t.dispatch.")] == ["t.dispatch.futian"]
    # A new report of the same person and employer: a duplicate, now to futian.
    outputs = loop.report("MY-R2", phone=mobile(3))
    dispatched = [o.topic for o in outputs if o.topic.startswith("t.dispatch.")]
    assert dispatched == ["t.dispatch.futian"]
    (state,) = states(outputs)
    assert (state.district, len(state.sources)) == ("futian", 2)
