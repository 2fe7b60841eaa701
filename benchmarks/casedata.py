"""Synthetic, seeded case-store contents: dispatch events, case states, risk and SLA alerts.

For the weekly report's tests and its benchmark (100,000 cases): cases opened
over the weeks before ``now``, each through the real loop rules
(``caseloop.transitions``): accepted, contacted, resolved and visited, some
late, some still open, some returned; a share reported again from a second
channel; repeat complainants; a few employers with many reports (and risk
alerts); supervision alerts for each overdue clock. Only masked or
pseudonymous personal fields, as the router publishes them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from caseloop.calendar import WorkingDayCalendar
from caseloop.case import LoopCase
from caseloop.transitions import apply_action, open_case
from review.store.base import Change, EventRow, RiskRow, SlaRow
from schemas.alert import Alert, AlertKind
from schemas.caseloop import CaseAction, ClockName, SlaAlert, SlaLevel, Urgency
from schemas.channels import Channel
from schemas.complaint import Category, Complainant, Employer, Location, Status, TriageReason
from schemas.dispatch import DispatchEvent, EventType, ReportRef, SourceRef
from schemas.shenzhen import DISTRICTS

CAL = WorkingDayCalendar()
_URGENT = (Category.WAGE_ARREARS, Category.WORK_INJURY, Category.OCCUPATIONAL_SAFETY)
_WEIGHTS = (9, 6, 12, 1, 14, 8, 10, 5, 3, 1, 1)  # district shares, in DISTRICTS order


@dataclass(frozen=True)
class Spec:
    """What to make: how many cases, over how many weeks before ``now``, from which seed."""

    cases: int
    now: datetime
    weeks: int = 12
    seed: int = 1


def employer(serial: int) -> Employer:
    """A made-up employer (a name, a code-shaped id, no real company)."""
    return Employer(
        name=f"深圳市样例{serial:04d}电子有限公司",
        uscc=f"91440300MA5{serial:07d}",
        address=None,
    )


def person_key(serial: int) -> str:
    """A pseudonym shaped like the router's (hex, no personal number)."""
    return f"pk{serial:06x}" + "ab" * 13


def event(
    case_id: str,
    district: str | None,
    *,
    at: datetime,
    channel: Channel = Channel.CITIZEN_APP,
    external_id: str | None = None,
    event_type: EventType = EventType.NEW_CASE,
    category: Category = Category.WAGE_ARREARS,
    street: str | None = None,
    employer_serial: int | None = 1,
    person: int | None = 1,
    people: int = 1,
) -> DispatchEvent:
    """One dispatch event as the router writes it (masked complainant)."""
    ext = external_id or f"{case_id}-{channel.value}"
    return DispatchEvent(
        event_id=f"ev-{ext}-{event_type.value}",
        event_type=event_type,
        case_id=case_id,
        district=district,
        routing_reason="synthetic",
        triage_reason=None if district else TriageReason.UNPLACED,
        category=category,
        report=ReportRef(
            channel=channel, external_id=ext, version="1", reported_at=at, fetched_at=at
        ),
        sources=[SourceRef(channel=channel, external_id=ext)],
        complainant=Complainant(
            name_masked="陈*",
            phone_masked="138****0000",
            person_key=person_key(person) if person is not None else None,
        ),
        employer=employer(employer_serial) if employer_serial is not None else None,
        location=Location(street=street, address=None),
        people_involved=people,
        summary="拖欠工资两个月",
        status=Status.RECEIVED,
        dispatched_at=at,
    )


def act(case: LoopCase, kind: str, at: datetime, **fields: str) -> LoopCase:
    """``case`` after one action of its district at ``at``."""
    action = CaseAction.model_validate(
        {"action_id": f"{case.case_id}-{kind}-{len(case.history)}", "case_id": case.case_id,
         "actor": case.district or "city", "action": kind, "at": at.isoformat(), **fields}
    )  # fmt: skip
    return apply_action(CAL, case, action, at).case


def state_change(case: LoopCase) -> Change:
    """The ``cases.state`` record of a case."""
    state = case.view()
    return Change(case_id=state.case_id, state=state, value=state.to_json())


def generate(spec: Spec) -> Iterator[list[Change]]:
    """Batches of changes (about 1,000 cases each) making up the store's contents."""
    rng = random.Random(spec.seed)  # noqa: S311 - seeded synthetic data, no secret
    span = timedelta(weeks=spec.weeks)
    batch: list[Change] = []
    for serial in range(spec.cases):
        opened = spec.now - span * rng.random() ** 0.8
        batch += _one_case(rng, serial, opened, spec.now)
        if len(batch) >= 4000:
            yield batch
            batch = []
    batch += _risk_alerts(spec)
    yield batch


def _one_case(rng: random.Random, serial: int, opened: datetime, now: datetime) -> list[Change]:
    case_id = f"case-syn{serial:07d}"
    triage = rng.random() < 0.03
    district = None if triage else rng.choices(DISTRICTS, weights=_WEIGHTS)[0]
    category = rng.choice(list(Category))
    channel = rng.choice(list(Channel))
    street = rng.choice(district.streets) if district and rng.random() < 0.8 else None
    hot = rng.random() < 0.15  # a few employers get many reports
    employer_serial = rng.randrange(20) if hot else rng.randrange(20, 5000)
    person = rng.randrange(800) if rng.random() < 0.1 else 10_000 + serial
    people = rng.choice((10, 12, 30)) if rng.random() < 0.01 else 1
    slug = district.slug if district else None
    first = event(
        case_id, slug, at=opened, channel=channel, category=category, street=street,
        employer_serial=employer_serial, person=person, people=people,
    )  # fmt: skip
    changes = [Change(event=EventRow.of(first, f"dispatch.{slug or 'triage'}"))]
    sources = [(channel.value, first.report.external_id)]
    if rng.random() < 0.2:
        second = rng.choice([c for c in Channel if c is not channel])
        again = event(
            case_id, slug, at=opened + timedelta(hours=rng.uniform(1, 48)), channel=second,
            event_type=EventType.DUPLICATE_REPORT, category=category, street=street,
            employer_serial=employer_serial, person=person,
        )  # fmt: skip
        if again.dispatched_at < now:
            changes.append(Change(event=EventRow.of(again, f"dispatch.{slug or 'triage'}")))
            sources.append((second.value, again.report.external_id))
    if slug is None:
        return changes
    urgency = (
        Urgency.EMERGENCY
        if people >= 10
        else Urgency.URGENT
        if category in _URGENT
        else Urgency.GENERAL
    )
    case = open_case(
        CAL, case_id=case_id, district=slug, category=category, urgency=urgency,
        people_involved=people, street=street, sources=tuple(sources), at=opened,
    )  # fmt: skip
    case = _lifecycle(rng, case, opened, now)
    changes.append(state_change(case))
    changes += _sla_alerts(case, now)
    return changes


def _lifecycle(rng: random.Random, case: LoopCase, opened: datetime, now: datetime) -> LoopCase:
    """Accept, contact, resolve, visit: each at a random delay, while before ``now``."""
    t = opened + timedelta(hours=rng.expovariate(1 / 10))
    if t >= now or rng.random() < 0.04:
        return case
    if rng.random() < 0.03:
        return act(case, "return", t, reason="非本区")
    case = act(case, "accept", t)
    t += timedelta(hours=rng.expovariate(1 / 20))
    if t >= now:
        return case
    case = act(case, "contact", t)
    t += timedelta(days=rng.expovariate(1 / 6))
    if t >= now or rng.random() < 0.05:
        return case
    result = rng.choice(("resolved", "resolved", "partly_resolved", "explained"))
    case = act(case, "resolve", t, result=result)
    t += timedelta(days=rng.uniform(0.5, 6))
    if t >= now or rng.random() < 0.15:
        return case
    answer = rng.choices(
        ("satisfied", "basically_satisfied", "dissatisfied", "unreachable"), weights=(60, 22, 10, 8)
    )[0]
    return act(case, "visit", t, satisfaction=answer)


def _sla_alerts(case: LoopCase, now: datetime) -> list[Change]:
    """The ``overdue`` (and ``escalated``) alerts the router would have raised by ``now``."""
    state = case.view()
    found: list[Change] = []
    for name, clock in state.clocks.items():
        if clock.state != "running" or clock.due_at is None or clock.due_at > now:
            continue
        levels = [SlaLevel.OVERDUE]
        if clock.started_at is not None and now - clock.started_at > 2 * (
            clock.due_at - clock.started_at
        ):
            levels.append(SlaLevel.ESCALATED)
        for level in levels:
            alert = SlaAlert(
                alert_id=f"sla-{state.case_id}-{name.value}-{level.value}",
                case_id=state.case_id,
                district=state.district,
                clock=ClockName(name),
                level=level,
                reopening=state.reopened,
                due_at=clock.due_at,
                level_at=clock.due_at,
                raised_at=clock.due_at,
                urgency=state.urgency,
                category=state.category,
            )
            found.append(Change(sla=SlaRow.of(alert)))
    return found


def _risk_alerts(spec: Spec) -> list[Change]:
    """A group dispute against each of the busiest employers, one per week."""
    found = []
    for week in range(spec.weeks):
        raised = spec.now - timedelta(weeks=week, days=2)
        for serial in range(3):
            alert = Alert(
                alert_id=f"alert-syn-{week}-{serial}",
                kind=AlertKind.GROUP_DISPUTE,
                employer=employer(serial),
                employer_key=f"name:样例{serial:04d}电子",
                district=DISTRICTS[serial].slug,
                case_ids=[f"case-syn{serial:07d}"] * 5,
                persons=5 + serial,
                people_involved=1,
                window_start=raised - timedelta(days=3),
                window_end=raised,
                open_until=raised + timedelta(days=7),
                raised_at=raised,
                updated_at=raised,
            )
            found.append(Change(risk=RiskRow.of(alert)))
    return found
