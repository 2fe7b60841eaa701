"""Stage 1's part of the case loop: a district's action, checked and put in the total order.

An action read from ``cases.actions.<actor>`` is validated as a
:class:`schemas.caseloop.CaseAction`, its ``actor`` compared with the topic's
(Kafka ACLs let each principal write only its own topic, so the topic says
who acted), its free-text ``reason`` masked, and written to the one partition
of ``unionhub.router.normalized``, where the dispatch stage applies it in
order with the reports. What fails is a dead letter on ``router.dlq`` naming
the field at fault.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from pydantic import ValidationError

from core.kafka.topics import TopicCatalog
from core.pii import mask_numbers
from router.processor import InputRecord, Output
from router.records import dead_letter, describe_validation_error, source_of
from schemas.caseloop import CASE_ACTION_SCHEMA, CaseAction

SOURCE_HEADER = "source"  # where the action was first read: topic-partition-offset


def check_action(catalog: TopicCatalog, actor: str, record: InputRecord, now: datetime) -> Output:
    """The action of ``record`` (read from ``actor``'s topic) for the dispatch stage, or a
    dead letter saying why it cannot go there."""
    try:
        action = CaseAction.model_validate(orjson.loads(record.value or b""))
    except orjson.JSONDecodeError:
        return _refused(catalog, record, actor, None, "action_invalid", "value is not JSON", now)
    except ValidationError as exc:
        why = describe_validation_error(exc)
        return _refused(catalog, record, actor, None, "action_invalid", why, now)
    if action.actor != actor:
        why = f"actor: {action.actor} sent on the action topic of {actor}"
        return _refused(catalog, record, actor, action.action_id, "action_refused", why, now)
    if action.reason:
        action = action.model_copy(update={"reason": mask_numbers(action.reason)})
    return Output(
        topic=catalog.router_normalized,
        key=action.case_id.encode(),
        value=action.to_json(),
        headers=(
            ("schema", CASE_ACTION_SCHEMA.encode()),
            (SOURCE_HEADER, source_of(record).encode()),
        ),
    )


def _refused(
    catalog: TopicCatalog,
    record: InputRecord,
    actor: str,
    action_id: str | None,
    kind: str,
    why: str,
    now: datetime,
) -> Output:
    return dead_letter(catalog, record, None, actor, action_id, kind, why, now)
