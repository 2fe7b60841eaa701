"""What the board shows, read from the case store: one city snapshot, cut per district.

Today's new cases by district (today: the loop clock's day in CST), the
newest cases, open risk alerts, the supervision list (every case overdue
now, oldest first) and the week's figures (:func:`caseloop.figures.compute`,
the numbers ``/stats`` gives). Plain JSON, no name or phone: cases are shown
by id, district, category and street.
"""

from __future__ import annotations

from typing import Any

from caseloop.calendar import CST
from caseloop.clocks import WorkingCalendar
from caseloop.figures import CITY, compute
from caseloop.loopclock import LoopClock
from core.times import from_us, to_us
from review.report.data import Queries
from review.report.week import Week
from review.store.base import CaseStore
from schemas.shenzhen import DISTRICTS

LATEST = 30
OVERDUE_SHOWN = 100


def _iso(us: int | None) -> str | None:
    return None if us is None else from_us(us).isoformat()


def ratio_json(numerator: int, denominator: int) -> float | None:
    """A share, None when nothing counts."""
    return numerator / denominator if denominator else None


def city_snapshot(store: CaseStore, clock: LoopClock, cal: WorkingCalendar) -> dict[str, Any]:
    """Everything the board shows, city-wide, as of the loop clock's now."""
    now = clock.now()
    week = Week.holding(now, now, clock)
    day = now.astimezone(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    today_lo = to_us(clock.wall(day))
    latest = store.select(
        "SELECT case_id, district, category, street, channel, dispatched_us FROM events "
        "WHERE event_type = 'new_case' ORDER BY dispatched_us DESC, case_id LIMIT ?",
        [LATEST],
    )
    today = dict.fromkeys([d.slug for d in DISTRICTS], 0)
    for district, n in store.select(
        "SELECT district, count(*) FROM events WHERE event_type = 'new_case' "
        "AND dispatched_us >= ? AND district IS NOT NULL GROUP BY district",
        [today_lo],
    ):
        today[str(district)] = int(n)
    queries = Queries(store, None)
    figures = compute(store.states(touched_since=week.start), week.start, week.end, now, cal)
    return {
        "week": week.label,
        "now": now.isoformat(),
        "day": day.date().isoformat(),
        "today": today,
        "latest": [
            {
                "case_id": c,
                "district": d,
                "category": k,
                "street": s,
                "channel": ch,
                "at": _iso(int(at)),
            }
            for c, d, k, s, ch, at in latest
        ],
        "risk": [
            {
                "kind": kind,
                "district": d,
                "employer": e,
                "cases": n,
                "persons": p,
                "people": people,
                "raised_at": _iso(int(r)),
                "open_until": _iso(int(u)),
            }
            for kind, d, e, n, p, people, r, u in queries.risk_open(week)
        ],
        "overdue": [
            {
                "case_id": o.case_id,
                "district": o.district,
                "category": o.category,
                "clock": o.clock,
                "level": o.level,
                "due_at": _iso(o.due_us),
            }
            for o in queries.overdue(week)
        ],
        "figures": {
            scope: {
                "dispatched": f.dispatched,
                "resolved": f.resolved,
                "resolve_rate": f.resolve_rate.value,
                "resolve_on_time_rate": f.resolve_on_time_rate.value,
                "satisfaction_rate": f.satisfaction_rate.value,
                "overdue_now": f.overdue_now,
            }
            for scope, f in figures.items()
        },
    }


def scoped(snapshot: dict[str, Any], scope: str) -> dict[str, Any]:
    """The snapshot a district's view shows (the city's for ``"city"``), at most 100 overdue."""

    def mine(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if scope == CITY or i.get("district") == scope]

    overdue = mine(snapshot["overdue"])
    return {
        **snapshot,
        "scope": scope,
        "today": snapshot["today"] if scope == CITY else {scope: snapshot["today"][scope]},
        "latest": mine(snapshot["latest"]),
        "risk": mine(snapshot["risk"]),
        "overdue": overdue[:OVERDUE_SHOWN],
        "overdue_total": len(overdue),
        "figures": {
            k: v for k, v in snapshot["figures"].items() if scope == CITY or k in (scope, CITY)
        },
    }
