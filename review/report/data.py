"""What the weekly report says, gathered by plain queries over the case store.

Separate from rendering (:mod:`review.report.render`): :func:`gather` returns
a :class:`Weekly` of numbers and rows, nothing formatted. The figures per
district are :func:`caseloop.figures.compute`'s (the numbers ``/stats``
gives); the counts come from the dispatch events, the supervision list from
the cases and their SLA alerts. Complainants appear only as ``person_key``
pseudonyms (shortened); no name, phone or ID number is read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from caseloop.calendar import CST
from caseloop.clocks import WorkingCalendar
from caseloop.figures import CITY, Figures, compute
from core.times import from_us, to_us
from review.report.week import Week
from review.store.base import CaseStore, load_state
from schemas.caseloop import CaseState
from schemas.shenzhen import DISTRICTS

TREND_WEEKS = 12
RANKED_MIN_CASES = 30  # caseloop.md: a ranking shows districts with >= 30 cases only
TOP_EMPLOYERS = 20
TOP_STREETS = 15
TOP_REPEATERS = 30
REPORT_TYPES = ("new_case", "duplicate_report", "case_merged")  # a report's first version
ESCALATION = ("overdue", "escalated")


@dataclass(frozen=True)
class Overview:
    """New cases and reports of a week, by channel, and the share merged across channels."""

    new_cases: int
    reports: int
    merged_across_channels: int  # new cases whose reports came from two channels or more
    by_channel: dict[str, tuple[int, int]]  # channel -> (new cases, reports)


@dataclass(frozen=True)
class Overdue:
    """One case on the supervision list (督办)."""

    case_id: str
    district: str | None
    category: str
    urgency: str
    status: str
    clock: str
    due_us: int
    level: str


@dataclass(frozen=True)
class Weekly:
    """Everything the report shows for one week and scope (a district, or the city)."""

    week: Week
    district: str | None
    satisfaction_floor: float
    this: Overview
    last: Overview
    trend: list[tuple[str, int, int]]  # (week label, new cases, reports), oldest first
    figures: dict[str, Figures]  # scope -> figures of the week
    ranks: dict[str, int]
    categories: dict[str, tuple[int, int]]  # category -> (this week, last week)
    streets: list[tuple[str | None, str, int]]  # (district, street, new cases)
    overdue: list[Overdue]
    risk_raised: int
    risk_open: list[tuple[Any, ...]]
    employers: list[tuple[str, str | None, int, int]]  # (name, uscc, reports, cases)
    repeaters: list[tuple[str, int, int, int]]  # (short key, week's reports, 12 weeks', cases)
    dissatisfied: list[CaseState] = field(default_factory=list)

    @property
    def scopes(self) -> list[str]:
        """The district rows of the table, in the order of ``shenzhen.md``."""
        if self.district is not None:
            return [self.district]
        return [d.slug for d in DISTRICTS]


def gather(
    store: CaseStore,
    week: Week,
    cal: WorkingCalendar,
    *,
    district: str | None = None,
    satisfaction_floor: float = 0.8,
) -> Weekly:
    """The report of ``week`` (for one district, or city-wide) from ``store``."""
    q = Queries(store, district)
    states = list(store.states(touched_since=week.start))
    figures = compute(states, week.start, week.end, week.now, cal)
    shown = {k: v for k, v in figures.items() if district is None or k in (district, CITY)}
    return Weekly(
        week=week,
        district=district,
        satisfaction_floor=satisfaction_floor,
        this=q.overview(week),
        last=q.overview(week.shifted(-1)),
        trend=q.trend(week),
        figures=shown,
        ranks=_ranks(shown),
        categories=q.categories(week),
        streets=q.streets(week),
        overdue=q.overdue(week),
        risk_raised=q.risk_raised(week),
        risk_open=q.risk_open(week),
        employers=q.employers(week),
        repeaters=q.repeaters(week),
        dissatisfied=_dissatisfied(states, week, district),
    )


class Queries:
    """The report's SQL, each query filtered to one district when the report is a district's."""

    def __init__(self, store: CaseStore, district: str | None) -> None:
        self._store = store
        self._where = "" if district is None else " AND district = ?"
        self._params: list[Any] = [] if district is None else [district]

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._store.select(sql.replace("{scope}", self._where), [*params, *self._params])

    def overview(self, week: Week) -> Overview:
        lo, hi = week.wall_us()
        rows = self._rows(
            "SELECT channel, sum(CASE WHEN event_type = 'new_case' THEN 1 ELSE 0 END), count(*) "
            "FROM events WHERE dispatched_us >= ? AND dispatched_us < ? "
            "AND event_type IN ('new_case', 'duplicate_report', 'case_merged'){scope} "
            "GROUP BY channel",
            lo,
            hi,
        )
        by_channel = {str(c): (int(n or 0), int(r)) for c, n, r in rows}
        merged = self._rows(
            "SELECT count(*) FROM (SELECT case_id FROM events WHERE case_id IN ("
            "SELECT case_id FROM events WHERE event_type = 'new_case' "
            "AND dispatched_us >= ? AND dispatched_us < ?{scope}) "
            "GROUP BY case_id HAVING count(DISTINCT channel) >= 2) merged",
            lo,
            hi,
        )
        return Overview(
            new_cases=sum(n for n, _ in by_channel.values()),
            reports=sum(r for _, r in by_channel.values()),
            merged_across_channels=int(merged[0][0]),
            by_channel=dict(sorted(by_channel.items())),
        )

    def trend(self, week: Week) -> list[tuple[str, int, int]]:
        weeks = [week.shifted(-i) for i in range(TREND_WEEKS - 1, -1, -1)]
        lo, hi = weeks[0].wall_us()[0], week.wall_us()[1]
        bounds = [w.wall_us()[0] for w in weeks]
        new: Counter[int] = Counter()
        reports: Counter[int] = Counter()
        rows = self._rows(
            "SELECT dispatched_us, event_type FROM events WHERE dispatched_us >= ? "
            "AND dispatched_us < ? AND event_type IN ('new_case', 'duplicate_report', "
            "'case_merged'){scope}",
            lo,
            hi,
        )
        for at, kind in rows:
            i = _bucket(bounds, int(at))
            reports[i] += 1
            new[i] += kind == "new_case"
        return [(w.label, new[i], reports[i]) for i, w in enumerate(weeks)]

    def categories(self, week: Week) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = {}
        for i, w in enumerate((week, week.shifted(-1))):
            lo, hi = w.wall_us()
            for category, n in self._rows(
                "SELECT category, count(*) FROM events WHERE event_type = 'new_case' "
                "AND dispatched_us >= ? AND dispatched_us < ?{scope} GROUP BY category",
                lo,
                hi,
            ):
                counts.setdefault(str(category), [0, 0])[i] = int(n)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return {k: (v[0], v[1]) for k, v in ordered}

    def streets(self, week: Week) -> list[tuple[str | None, str, int]]:
        lo, hi = week.wall_us()
        rows = self._rows(
            "SELECT district, street, count(*) AS n FROM events WHERE event_type = 'new_case' "
            "AND street IS NOT NULL AND dispatched_us >= ? AND dispatched_us < ?{scope} "
            "GROUP BY district, street ORDER BY n DESC, district, street",
            lo,
            hi,
        )[:TOP_STREETS]
        return [(d, str(s), int(n)) for d, s, n in rows]

    def overdue(self, week: Week) -> list[Overdue]:
        now = to_us(week.now)
        levels: dict[tuple[str, str], str] = {}
        for case_id, clock, level in self._rows(
            "SELECT case_id, clock, level FROM sla_alerts WHERE level IN ('overdue', "
            "'escalated'){scope}"
        ):
            if levels.get((case_id, clock)) != "escalated":
                levels[(case_id, clock)] = level
        found = []
        for (value,) in self._rows(
            "SELECT value FROM cases WHERE next_due_us IS NOT NULL AND next_due_us <= ?{scope} "
            "ORDER BY next_due_us, case_id",
            now,
        ):
            state = load_state(bytes(value))
            for name, clock in sorted(state.clocks.items(), key=lambda kv: str(kv[1].due_at)):
                if clock.state == "running" and clock.due_at and to_us(clock.due_at) <= now:
                    found.append(
                        Overdue(
                            state.case_id, state.district, state.category.value,
                            state.urgency.value, state.status.value, name.value,
                            to_us(clock.due_at), levels.get((state.case_id, name.value), "overdue"),
                        )
                    )  # fmt: skip
                    break
        return found

    def risk_raised(self, week: Week) -> int:
        lo, hi = week.wall_us()
        rows = self._rows(
            "SELECT count(*) FROM risk_alerts WHERE raised_us >= ? AND raised_us < ?{scope}",
            lo,
            hi,
        )
        return int(rows[0][0])

    def risk_open(self, week: Week) -> list[tuple[Any, ...]]:
        return self._rows(
            "SELECT kind, district, employer_name, cases, persons, people, raised_us, "
            "open_until_us FROM risk_alerts WHERE open_until_us > ? AND raised_us < ?{scope} "
            "ORDER BY raised_us DESC",
            week.now_wall_us(),
            week.wall_us()[1],
        )

    def employers(self, week: Week) -> list[tuple[str, str | None, int, int]]:
        lo, hi = week.wall_us()
        rows = self._rows(
            "SELECT max(employer_name), employer_uscc, count(*) AS n, count(DISTINCT case_id) "
            "FROM events WHERE employer_name IS NOT NULL AND dispatched_us >= ? "
            "AND dispatched_us < ? AND event_type IN ('new_case', 'duplicate_report', "
            "'case_merged'){scope} GROUP BY coalesce(employer_uscc, employer_name), "
            "employer_uscc ORDER BY n DESC, max(employer_name)",
            lo,
            hi,
        )
        return [(str(n), u, int(r), int(c)) for n, u, r, c in rows[:TOP_EMPLOYERS]]

    def repeaters(self, week: Week) -> list[tuple[str, int, int, int]]:
        lo, hi = week.wall_us()
        since = week.shifted(1 - TREND_WEEKS).wall_us()[0]
        rows = self._rows(
            "SELECT person_key, sum(CASE WHEN dispatched_us >= ? THEN 1 ELSE 0 END) AS w, "
            "count(*) AS n, count(DISTINCT case_id) FROM events WHERE person_key IS NOT NULL "
            "AND dispatched_us >= ? AND dispatched_us < ? AND event_type IN ('new_case', "
            "'duplicate_report', 'case_merged'){scope} GROUP BY person_key "
            "HAVING count(*) >= 2 ORDER BY w DESC, n DESC, person_key",
            lo,
            since,
            hi,
        )
        return [(str(k)[:12], int(w), int(n), int(c)) for k, w, n, c in rows if w][:TOP_REPEATERS]


def _bucket(bounds: list[int], at: int) -> int:
    i = 0
    while i + 1 < len(bounds) and at >= bounds[i + 1]:
        i += 1
    return i


def _ranks(figures: dict[str, Figures]) -> dict[str, int]:
    """Rank by 按时办结率, then 满意率, only districts with >= 30 cases dispatched."""
    ranked = [
        (f.resolve_on_time_rate.value or 0.0, f.satisfaction_rate.value or 0.0, scope)
        for scope, f in figures.items()
        if scope != CITY and f.dispatched >= RANKED_MIN_CASES
    ]
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return {scope: i + 1 for i, (_, _, scope) in enumerate(ranked)}


def _dissatisfied(states: list[CaseState], week: Week, district: str | None) -> list[CaseState]:
    """Cases whose worker answered ``dissatisfied`` on a return visit in the week."""
    found = [
        s
        for s in states
        if (district is None or s.district == district)
        and any(
            e.action == "visit" and e.detail == "dissatisfied" and week.start <= e.at < week.at
            for e in s.history
        )
    ]
    return sorted(found, key=lambda s: s.updated_at)


def when(us: int) -> str:
    """A stored microsecond time as ``2026-12-03 14:05`` CST."""
    return from_us(us).astimezone(CST).strftime("%Y-%m-%d %H:%M")
