"""One simulated federation: a district's (or the city desk's) topic, the cases it holds.

:class:`Federation` reads its dispatch topic (``dispatch.<slug>``, the city desk
``dispatch.triage``) in its own consumer group, committing what it has taken
in, and keeps one :func:`~simulators.federations.casework.work_case` task per
case it holds. Any event of a case (``new_case``, ``case_assigned``,
``case_returned``, and ``duplicate_report``, ``case_updated``, ``case_merged``)
hands the case to its worker, or starts one: the worker looks at the case's
state (once the API shows what the event did) and decides from it, so an
update or a repeated report changes nothing unless the state did (a report
that reopened a resolved case is new work). A ``case_merged`` ends the work on
the merged cases (they live on in the survivor); an event whose case lives
elsewhere (a merge told to a merged case's old topic) is not taken in. On
start it also adopts, through the API, the open cases it held before a
restart, since its group's committed offsets are past their events.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core.kafka.clients import committed_consumer
from schemas.caseloop import CITY_DESK, CaseStatus
from schemas.dispatch import DispatchEvent
from simulators.federations.casework import (
    FIRST_RETRY_S,
    MAX_RETRY_S,
    Desk,
    Expect,
    News,
    work_case,
)

log = structlog.get_logger(__name__)

OPEN_STATUSES = (
    CaseStatus.DISPATCHED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.SUSPENDED,
    CaseStatus.RESOLVED,
)
DESK_STATUSES = (CaseStatus.RETURNED, CaseStatus.DISPATCHED)
PER_PAGE = 200


def group_id(namespace: str, actor: str) -> str:
    """The consumer group of ``actor``'s simulated federation (internal name, namespaced)."""
    return f"{namespace}unionhub.sim.federation.{actor}"


class Federation:
    """One actor's federation: its topic consumed, its cases worked."""

    def __init__(self, desk: Desk, bootstrap: str, topic: str, namespace: str) -> None:
        self.desk = desk
        self._bootstrap = bootstrap
        self._topic = topic
        self._group = group_id(namespace, desk.actor)
        self._client_id = f"{namespace}unionhub.sim.federation.{desk.actor}"
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._news: dict[str, News] = {}
        self.events_read = 0

    @property
    def holding(self) -> int:
        """How many cases have a worker right now."""
        return sum(not task.done() for task in self._workers.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Consume and work until ``stop``; then cancel every worker."""
        consumer = committed_consumer(
            self._bootstrap, self._topic, group_id=self._group, client_id=self._client_id
        )
        await consumer.start()
        adopting = asyncio.create_task(self._adopt(), name=f"adopt-{self.desk.actor}")
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=300)
                for records in batch.values():
                    for record in records:
                        self._on_event(record.value)
                if batch:
                    try:
                        await consumer.commit()
                    except KafkaError as exc:  # a rebalance: the events come again, harmlessly
                        log.warning("federation_commit_failed", error=type(exc).__name__)
        finally:
            tasks = [adopting, *self._workers.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await consumer.stop()

    def hold(self, case_id: str, expect: Expect | None = None) -> None:
        """Work ``case_id``: tell its worker, or start one; ``expect``: what an event showed."""
        task = self._workers.get(case_id)
        if task is not None and not task.done():
            self._news[case_id].tell(expect)
            return
        news = News(expect=expect)
        self._news[case_id] = news
        task = asyncio.create_task(work_case(self.desk, case_id, news), name=f"case-{case_id}")
        task.add_done_callback(self._log_failure)
        self._workers[case_id] = task

    def drop(self, case_id: str) -> None:
        """Stop working ``case_id`` (merged into another case)."""
        task = self._workers.pop(case_id, None)
        if task is not None:
            task.cancel()
        self._news.pop(case_id, None)
        self.desk.seen.pop(case_id, None)

    def _on_event(self, value: bytes | None) -> None:
        self.events_read += 1
        try:
            event = DispatchEvent.model_validate_json(value or b"")
        except ValidationError as exc:
            log.warning("federation_bad_event", actor=self.desk.actor, error=str(exc)[:200])
            return
        for merged in event.merged_case_ids:
            if merged != event.case_id:
                self.drop(merged)
        here = None if self.desk.actor == CITY_DESK else self.desk.actor
        if event.district != here:
            return  # a merge told to a merged case's topic: the survivor lives elsewhere
        sources = frozenset((str(s.channel), s.external_id) for s in event.sources)
        log.debug(
            "federation_event",
            actor=self.desk.actor,
            case_id=event.case_id,
            event_type=str(event.event_type),
        )
        self.hold(event.case_id, Expect(event.district, sources))

    async def _adopt(self) -> None:
        """Hold the open cases the API lists for this actor (the city desk: those in triage)."""
        statuses = DESK_STATUSES if self.desk.actor == CITY_DESK else OPEN_STATUSES
        for status in statuses:
            page, delay = 1, FIRST_RETRY_S
            while True:
                code, body = await self.desk.client.cases(status.value, page, PER_PAGE)
                if code != 200:  # the daemon not up yet, or the token not in force yet
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                for case in body["cases"]:
                    if self.desk.actor != CITY_DESK or case.get("district") is None:
                        log.debug(
                            "federation_adopted", actor=self.desk.actor, case_id=case["case_id"]
                        )
                        self.hold(case["case_id"])
                if page * PER_PAGE >= body["total"]:
                    break
                page += 1

    def _log_failure(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            error = task.exception()
            if error is not None:
                log.error(
                    "federation_worker_failed",
                    actor=self.desk.actor,
                    task=task.get_name(),
                    error=repr(error),
                )
