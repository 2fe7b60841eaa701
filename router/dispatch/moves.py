"""A case moving between topics: the dispatch event of a return or an assignment.

caseloop.md: a ``return`` publishes ``case_returned`` to ``dispatch.triage``
(the district's reason in ``routing_reason``); an ``assign`` publishes
``case_assigned`` to the new district's topic. The case's placement in the
dedupe state moves with it, so its later events go there too. Such an event
repeats the case's first event (the :func:`brief_of` kept with the loop
state), its sources as they are now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseloop.case import LoopCase
from caseloop.transitions import Signal, SignalKind
from core.ids import digest_id
from core.kafka.topics import TopicCatalog
from router.dispatch.engine import DedupeEngine
from router.processor import Output
from schemas.caseloop import CaseAction
from schemas.complaint import Placement, TriageReason
from schemas.dispatch import DISPATCH_SCHEMA, DispatchEvent, EventType, SourceRef

# The complaint text kept for the events of a returned or assigned case.
BRIEF_SUMMARY_CHARS = 2000


def move_output(
    catalog: TopicCatalog,
    engine: DedupeEngine,
    brief: dict[str, Any],
    case: LoopCase,
    signal: Signal,
    action: CaseAction,
    now: datetime,
) -> Output:
    """The event of a return or an assignment, the case's placement moved with it."""
    if signal.kind is SignalKind.RETURNED:
        placement = Placement(
            district=None,
            routing_reason=f"returned by {action.actor}: {action.reason or 'no reason'}",
            triage_reason=TriageReason.RETURNED,
        )
        kind = EventType.CASE_RETURNED
    else:
        placement = Placement(
            district=case.district,
            routing_reason=f"assigned by the city desk to {case.district}",
            triage_reason=None,
        )
        kind = EventType.CASE_ASSIGNED
    sources = engine.move_case(case.case_id, placement)
    event = _moved_event(brief, case, kind, placement, action, sources, now)
    topic = catalog.dispatch(placement.district) if placement.district else catalog.triage
    return Output(
        topic,
        case.case_id.encode(),
        event.to_json(),
        (
            ("schema", DISPATCH_SCHEMA.encode()),
            ("channel", str(event.report.channel).encode()),
            ("trace_id", brief["trace_id"].encode()),
        ),
    )


def brief_of(event: DispatchEvent) -> dict[str, Any]:
    """What the events of a returned or assigned case repeat of the case's first event."""
    fields = event.model_dump(
        mode="json",
        include={
            "category",
            "report",
            "complainant",
            "employer",
            "location",
            "people_involved",
            "summary",
            "status",
        },
    )
    fields["summary"] = fields["summary"][:BRIEF_SUMMARY_CHARS]
    fields["trace_id"] = digest_id("trace", event.event_id)
    return fields


def _moved_event(
    brief: dict[str, Any],
    case: LoopCase,
    kind: EventType,
    placement: Placement,
    action: CaseAction,
    sources: list[SourceRef],
    now: datetime,
) -> DispatchEvent:
    fields = {k: v for k, v in brief.items() if k != "trace_id"}
    return DispatchEvent.model_validate(
        {
            **fields,
            "event_id": "evt-" + digest_id("event", "action", action.action_id),
            "event_type": kind,
            "case_id": case.case_id,
            "district": placement.district,
            "routing_reason": placement.routing_reason,
            "triage_reason": placement.triage_reason,
            "sources": sources,
            "merged_case_ids": [],
            "dispatched_at": now,
        }
    )
