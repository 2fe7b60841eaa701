"""A district's action, from a REST body or the CLI to its action topic, checked on the way.

:func:`build_action` turns what a caller sent into a :class:`CaseAction` of the
actor the caller is (the token or ``--as`` says who acts, never the body),
with a fresh ``action_id`` unless the caller chose one (its idempotency key)
and the loop's current time unless it gave ``at``; every refusal names the
field. :func:`precheck` refuses what the case's last known state rules out
(unknown case, another district's, the wrong state) with the router's own
rules, before anything is sent; the router, applying actions in order, stays
the judge. :class:`ActionSender` writes to ``cases.actions.<actor>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from caseloop.transitions import RefusalKind, refusal
from core.errors import KafkaUnavailableError
from core.kafka.clients import idempotent_producer
from core.kafka.diagnosis import acl_refusal
from core.kafka.topics import TopicCatalog
from core.pii import mask_numbers
from schemas.caseloop import CaseAction, CaseState
from unionhub.admin.errors import AdminError
from unionhub.cases.errors import ActionRefusedError, CaseNotFoundError, ForbiddenCaseError

BODY_FIELDS = ("action_id", "action", "at", "result", "to_district", "satisfaction", "reason")


def build_action(actor: str, case_id: str, body: object, now: datetime) -> CaseAction:
    """The action ``actor`` asks for on ``case_id``; :class:`AdminError` naming the field."""
    if not isinstance(body, Mapping):
        raise AdminError("body", "must be a JSON object")
    unknown = sorted(str(k) for k in body if k not in (*BODY_FIELDS, "actor", "case_id"))
    if unknown:
        raise AdminError(unknown[0], "not a field of an action")
    if body.get("actor", actor) != actor:
        raise ForbiddenCaseError("actor", "the token says who acts; the body may not differ")
    if body.get("case_id", case_id) != case_id:
        raise AdminError("case_id", "differs from the URL's")
    fields: dict[str, Any] = {k: body[k] for k in BODY_FIELDS if body.get(k) is not None}
    fields.setdefault("action_id", f"{actor}-{uuid.uuid4().hex}")
    fields.setdefault("at", now.isoformat())
    if isinstance(fields.get("reason"), str):
        fields["reason"] = mask_numbers(fields["reason"])
    try:
        return CaseAction.model_validate({**fields, "actor": actor, "case_id": case_id})
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        field, sep, reason = message.partition(": ")
        if sep and not where:
            raise AdminError(field, reason) from None
        raise AdminError(where or "body", message) from None


def visible(case: CaseState | None, actor: str, case_id: str) -> CaseState:
    """``case`` if ``actor`` may see it: 404 when unknown, 403 when another district's."""
    if case is None:
        raise CaseNotFoundError("case_id", f"no case {case_id}")
    if actor != "city" and case.district != actor:
        raise ForbiddenCaseError("case_id", f"case {case_id} is not district {actor}'s")
    return case


def precheck(case: CaseState | None, action: CaseAction) -> None:
    """Refuse, as the router would, an action the case's last known state rules out."""
    why = refusal(visible(case, action.actor, action.case_id), action)
    if why is None:
        return
    if why.kind is RefusalKind.ACTOR:
        raise ForbiddenCaseError(*why.message.split(": ", 1))
    raise ActionRefusedError(*why.message.split(": ", 1))


class ActionSender:
    """Writes actions to their actor's topic (idempotent producer, acks=all)."""

    def __init__(self, bootstrap: str, catalog: TopicCatalog) -> None:
        self._catalog = catalog
        self._producer: AIOKafkaProducer = idempotent_producer(
            bootstrap, client_id=catalog.client_id("cases.actions")
        )
        self._started = False

    async def send(self, action: CaseAction) -> None:
        """Write ``action`` (key: its case id) and wait until the broker has it."""
        try:
            if not self._started:
                await self._producer.start()
                self._started = True
            await self._producer.send_and_wait(
                self._catalog.actions(action.actor),
                value=action.to_json(),
                key=action.case_id.encode(),
                headers=[("schema", b"unionhub.case_action/1")],
            )
        except KafkaError as exc:
            refused = acl_refusal(exc, f"writing to {self._catalog.actions(action.actor)}")
            if refused is not None:
                raise refused from exc
            raise KafkaUnavailableError(f"sending the action failed: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """Stop the producer."""
        if self._started:
            await self._producer.stop()
            self._started = False
