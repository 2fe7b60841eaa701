"""The simulated federations' behaviour mix, as data: which share of cases gets what, and when.

Fractions of a limit are fractions of the clock's own time (working time for a
working-day limit, calendar hours for an hour limit), counted from the clock's
start, so "0.5 of the accept limit" of a general case is half a working day
after dispatch, weekends and holidays skipped. Working days count 24 hours
each, as the loop's clocks do (``caseloop.calendar``).

A district federation, for each run of a case's resolve clock it holds:

- **accept** (签收): 87 % on time, at 0.2-0.95 of the accept limit; 10 % late, at
  1.05-2.5; 3 % never (the case stays ``dispatched``, overdue, escalated);
- **return** (退回): 5 % of the cases first dispatched to it are returned as not
  its district's, at 0.1-0.8 of the accept limit, with a reason and another
  district suggested; a case the city desk assigned is never returned (no
  ping-pong), so its 5 % are accepted on time;
- **contact**: 92 % at 0.1-0.9 of the contact limit, 8 % late at 1.05-2.0
  (never before the accept);
- **suspend** (仲裁, court, inspection): 15 % of runs, at 0.2-0.6 of the way to
  the resolve, for 1-3 working days, then **resume**;
- **resolve** (办结): at 0.3-1.2 of the resolve limit (paused time not counted,
  as the clock does not count it); about 22 % late; results 55 % ``resolved``,
  15 % ``partly_resolved``, 20 % ``explained``, 10 % ``referred``;
- **visit** (回访): 10 % never visited (the case closes on its own 15 days after
  the resolve); the others 0.5-4 working days after the resolve: 70 % satisfied,
  15 % basically satisfied, 8 % dissatisfied (the case reopens: a new run, planned
  anew), 7 % unreachable; from a case's third run on, a dissatisfied answer is
  drawn as basically satisfied, so a case reopens at most twice by its visits.

The city desk assigns every triage case (``new_case`` on ``dispatch.triage``)
and every returned case 0.05-0.5 working days after it reached triage: a
returned case to the district its returner suggested, a triage case to a
seeded district.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.caseloop import ResolveResult, Satisfaction


@dataclass(frozen=True)
class Span:
    """A uniform range ``[lo, hi]`` (fractions of a limit, or working days)."""

    lo: float
    hi: float


@dataclass(frozen=True)
class Mix:
    """The shares and timings of the module docstring (one instance: :data:`MIX`)."""

    never_accept: float = 0.03
    wrong_district: float = 0.05
    late_accept: float = 0.10
    accept_on_time: Span = Span(0.2, 0.95)
    accept_late: Span = Span(1.05, 2.5)
    return_at: Span = Span(0.1, 0.8)
    late_contact: float = 0.08
    contact_on_time: Span = Span(0.1, 0.9)
    contact_late: Span = Span(1.05, 2.0)
    suspend: float = 0.15
    suspend_at: Span = Span(0.2, 0.6)  # of the way from the run's start to its resolve
    suspend_days: Span = Span(1.0, 3.0)
    resolve_at: Span = Span(0.3, 1.2)
    results: tuple[tuple[ResolveResult, float], ...] = (
        (ResolveResult.RESOLVED, 0.55),
        (ResolveResult.PARTLY_RESOLVED, 0.15),
        (ResolveResult.EXPLAINED, 0.20),
        (ResolveResult.REFERRED, 0.10),
    )
    never_visit: float = 0.10
    visit_after_days: Span = Span(0.5, 4.0)
    satisfactions: tuple[tuple[Satisfaction, float], ...] = (
        (Satisfaction.SATISFIED, 0.70),
        (Satisfaction.BASICALLY_SATISFIED, 0.15),
        (Satisfaction.DISSATISFIED, 0.08),
        (Satisfaction.UNREACHABLE, 0.07),
    )
    last_dissatisfied_run: int = 2  # later runs answer basically satisfied instead
    assign_after_days: Span = Span(0.05, 0.5)


MIX = Mix()

SUSPEND_REASONS = (
    "等待劳动人事争议仲裁委员会裁决",
    "等待人民法院判决",
    "等待劳动保障监察调查结果",
)
RESOLVE_REASONS: dict[ResolveResult, str] = {
    ResolveResult.RESOLVED: "已协调用人单位，职工诉求已解决",
    ResolveResult.PARTLY_RESOLVED: "已部分解决，其余事项已告知职工后续维权途径",
    ResolveResult.EXPLAINED: "已向职工解释相关政策法规，职工表示理解",
    ResolveResult.REFERRED: "已转交劳动保障监察部门依法处理",
}
CONTACT_REASON = "已电话联系职工，了解诉求详情"
ASSIGN_REASON = "市总服务台分派"


def return_reason(suggested_name: str) -> str:
    """The reason a district gives when it returns a case (no personal data in it)."""
    return f"经核实用人单位及工作地点均不在本区，建议转{suggested_name}办理"
