"""The board's live feed: what the case store's sink just committed, pushed to each browser.

The sink (:class:`review.sink.CaseStoreSink`) reads ``dispatch.*``,
``alerts.risk``, ``alerts.sla`` and ``cases.state`` and calls
:meth:`BoardFeed.on_changes` after each committed batch, so whatever a
browser is told about can already be opened from the store. Each browser's
server-sent-event stream (:meth:`BoardFeed.subscribe`) gets the live items of
its scope (the city: all; a district: its own) and, at most once a second
after a change and every :data:`REFRESH_S` anyway, a fresh snapshot of its
scope (counts, lists, figures), computed once for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from caseloop.clocks import WorkingCalendar
from caseloop.figures import CITY
from caseloop.loopclock import LoopClock
from core.times import from_us
from review.store.base import CaseStore, Change
from unionhub.board.snapshot import city_snapshot, scoped

log = structlog.get_logger(__name__)

MIN_INTERVAL_S = 1.0
REFRESH_S = 30.0
QUEUE_MAX = 500


def live_item(change: Change) -> dict[str, Any] | None:
    """What a browser is told of one committed change (None: nothing to tell)."""
    if change.event is not None:
        e = change.event
        return {
            "type": "case", "event_type": e.event_type, "case_id": e.case_id,
            "district": e.district, "category": e.category, "street": e.street,
            "channel": e.channel, "at": from_us(e.dispatched_us).isoformat(),
        }  # fmt: skip
    if change.risk is not None:
        r = change.risk
        return {
            "type": "risk", "kind": r.kind, "district": r.district,
            "employer": r.employer_name, "cases": r.cases,
        }  # fmt: skip
    if change.sla is not None:
        s = change.sla
        return {
            "type": "sla", "case_id": s.case_id, "district": s.district, "clock": s.clock,
            "level": s.level,
        }  # fmt: skip
    if change.state is not None:
        st = change.state
        return {"type": "state", "case_id": st.case_id, "district": st.district,
                "status": st.status.value}  # fmt: skip
    return None


@dataclass(eq=False)  # each browser its own, hashed by identity
class Subscriber:
    """One browser's queue of ``(kind, item)``: live items and snapshots of its scope."""

    scope: str
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_MAX)
    )

    def end(self) -> None:
        """Tell the stream to close (the daemon is stopping)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(("end", {}))

    def offer(self, kind: str, item: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a slow browser skips live items;
            self.queue.put_nowait((kind, item))  # the next snapshot sets it right


class BoardFeed:
    """Fans committed changes and snapshots out to the connected browsers."""

    def __init__(
        self,
        reader: CaseStore,
        clock: LoopClock,
        calendar: Callable[[], WorkingCalendar],
        *,
        in_thread: bool,
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._calendar = calendar
        self._in_thread = in_thread  # the reader has its own connection: query off the loop
        self._subscribers: set[Subscriber] = set()
        self._dirty = asyncio.Event()
        self._snapshot: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    def on_changes(self, changes: list[Change]) -> None:
        """The sink's listener: tell each browser of its scope's changes."""
        for change in changes:
            item = live_item(change)
            if item is None:
                continue
            for sub in self._subscribers:
                if sub.scope == CITY or item.get("district") == sub.scope:
                    sub.offer(item["type"], item)
        if changes:
            self._dirty.set()

    async def snapshot(self, scope: str) -> dict[str, Any]:
        """The current snapshot of ``scope`` (computed if none is fresh)."""
        current = self._snapshot
        if current is None:
            current = await self._refresh()
        return scoped(current, scope)

    async def _refresh(self) -> dict[str, Any]:
        async with self._lock:
            cal = self._calendar()
            if self._in_thread:
                fresh = await asyncio.to_thread(city_snapshot, self._reader, self._clock, cal)
            else:
                fresh = city_snapshot(self._reader, self._clock, cal)
            self._snapshot = fresh
        for sub in self._subscribers:
            sub.offer("snapshot", scoped(fresh, sub.scope))
        return fresh

    async def run(self, stop: asyncio.Event) -> None:
        """Recompute and push snapshots after changes (at most once a second) until ``stop``;
        then tell every open stream to end."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), REFRESH_S)
            self._dirty.clear()
            if stop.is_set():
                break
            if not self._subscribers:
                self._snapshot = None  # nobody watches: the next browser gets a fresh one
                continue
            try:
                await self._refresh()
            except Exception:  # one failed snapshot must not end the feed
                log.exception("board: snapshot failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), MIN_INTERVAL_S)
        for sub in self._subscribers:
            sub.end()

    def open(self, scope: str) -> Subscriber:
        """A browser's subscription to its scope's items (close it with :meth:`close`)."""
        sub = Subscriber(scope)
        self._subscribers.add(sub)
        return sub

    def close(self, sub: Subscriber) -> None:
        """End a subscription."""
        self._subscribers.discard(sub)
