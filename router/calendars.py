"""The working-day calendar in force: the shipped one plus the admin's overrides from Kafka.

The admin loads a calendar file for years the shipped calendar does not know
(``unionhub calendar load FILE``): it lands on the compacted topic
``unionhub.calendar``, one record per year (key the year, value its
:class:`YearSchedule` as JSON). :class:`CalendarFeed` reads that
topic when started and again every :data:`REFRESH_S`, and hands out the
calendar built from it (:meth:`CalendarFeed.current`), so a new file takes
effect within seconds, without a restart. Deadlines already computed keep the
calendar they were computed with.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from pydantic import ValidationError

from caseloop.calendar import WorkingDayCalendar
from caseloop.calendar_overrides import CalendarOverrides, YearSchedule
from core.errors import UnionhubError
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from core.settings import Settings

log = structlog.get_logger(__name__)

REFRESH_S = 10.0


class CalendarFeed:
    """The calendar in force for one namespace, refreshed from ``unionhub.calendar``."""

    def __init__(self, settings: Settings) -> None:
        self._bootstrap = settings.kafka_bootstrap
        self._topic = TopicCatalog(settings.namespace).calendar
        self._calendar = WorkingDayCalendar()
        self._loaded: dict[str, bytes] = {}

    def current(self) -> WorkingDayCalendar:
        """The calendar to compute deadlines with now."""
        return self._calendar

    async def refresh(self) -> None:
        """Read the overrides topic to its end and adopt what it holds."""
        held: dict[str, bytes] = {}
        for record in await read_to_end(self._bootstrap, self._topic):
            key = (record.key or b"").decode("utf-8", "replace")
            if record.value is None:
                held.pop(key, None)
            else:
                held[key] = record.value
        if held == self._loaded:
            return
        try:
            overrides = CalendarOverrides(
                years={int(year): YearSchedule.model_validate_json(v) for year, v in held.items()}
            )
        except (ValueError, ValidationError) as exc:
            log.warning(
                "calendar overrides refused; keeping the calendar in force",
                error=type(exc).__name__,
            )
            return
        self._calendar = WorkingDayCalendar(overrides)
        self._loaded = held
        log.info("calendar overrides loaded", years=sorted(held))

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every :data:`REFRESH_S` until ``stop`` (Kafka trouble: try again later)."""
        while not stop.is_set():
            try:
                await self.refresh()
            except UnionhubError as exc:
                log.warning("calendar overrides not read", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=REFRESH_S)
