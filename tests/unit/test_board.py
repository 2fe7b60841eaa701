"""The board's parts without a browser: sessions (signed, expiring, closed), the live items
each scope is told, and a district's cut of the city snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks.casedata import CAL, Spec, event, generate
from caseloop.loopclock import LoopClock
from review.store.base import Change, EventRow
from review.store.sqlite import SqliteCaseStore
from unionhub.board.feed import BoardFeed
from unionhub.board.sessions import Sessions
from unionhub.board.snapshot import city_snapshot, scoped

NOW = datetime.now(UTC)


def test_a_session_is_the_signed_id_of_one_actor_until_closed_or_expired() -> None:
    sessions = Sessions()
    cookie = sessions.open("nanshan")
    assert sessions.actor_of(cookie) == "nanshan"
    sid, _, signature = cookie.rpartition(".")
    assert sessions.actor_of(f"{sid}.{'0' * len(signature)}") is None, "forged"
    assert sessions.actor_of(Sessions().open("city")) is None, "another daemon's"
    assert sessions.actor_of(None) is None
    sessions.close(cookie)
    assert sessions.actor_of(cookie) is None
    assert Sessions(ttl_s=0).open("city") != ""
    stale = Sessions(ttl_s=-1)
    assert stale.actor_of(stale.open("city")) is None


async def test_each_browser_is_told_of_its_own_scope_only() -> None:
    store = SqliteCaseStore(None)
    feed = BoardFeed(store, LoopClock(), lambda: CAL, in_thread=False)
    city, nanshan, futian = feed.open("city"), feed.open("nanshan"), feed.open("futian")
    change = Change(event=EventRow.of(event("c1", "nanshan", at=NOW), "dispatch.nanshan"))
    store.apply([change], {})
    feed.on_changes([change])
    assert city.queue.get_nowait()[1]["case_id"] == "c1"
    assert nanshan.queue.get_nowait()[0] == "case"
    assert futian.queue.empty()
    feed.close(futian)
    first = await feed.snapshot("nanshan")
    assert first["scope"] == "nanshan"
    assert [c["case_id"] for c in first["latest"]] == ["c1"]


def test_a_district_sees_its_cut_of_the_city_snapshot() -> None:
    store = SqliteCaseStore(None)
    for batch in generate(Spec(cases=400, now=NOW - timedelta(minutes=1))):
        store.apply(batch, {})
    city = city_snapshot(store, LoopClock(), CAL)
    mine = scoped(city, "baoan")
    assert set(mine["today"]) == {"baoan"}
    assert {c["district"] for c in mine["latest"]} <= {"baoan"}
    assert {o["district"] for o in mine["overdue"]} <= {"baoan"}
    assert set(mine["figures"]) == {"baoan", "city"}
    assert mine["overdue_total"] == sum(o["district"] == "baoan" for o in city["overdue"])
    assert scoped(city, "city")["overdue_total"] == len(city["overdue"])


async def test_every_stream_is_told_to_end_when_the_daemon_stops() -> None:
    import asyncio

    feed = BoardFeed(SqliteCaseStore(None), LoopClock(), lambda: CAL, in_thread=False)
    sub = feed.open("city")
    sub.offer("case", {"case_id": "c1"})
    stop = asyncio.Event()
    stop.set()
    await feed.run(stop)
    assert sub.queue.get_nowait() == ("end", {})
