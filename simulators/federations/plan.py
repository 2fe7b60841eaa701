"""What one actor will do in one run of one case: drawn once from the seed, the same every time.

:func:`draw` is a pure function of ``(seed, actor, case_id, run)`` (``run``: how
many runs of the resolve clock the case has had, as ``len(CaseState.runs)``),
so a federation that restarts, retries or re-reads its topic decides exactly
as before, and the city desk can read the suggestion a district's return
carried from the same draw. The shares are :mod:`simulators.federations.mix`'s.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from schemas.caseloop import ResolveResult, Satisfaction
from schemas.shenzhen import DISTRICTS
from simulators.federations.mix import MIX, SUSPEND_REASONS, Mix, Span

T = TypeVar("T")


class Fate(StrEnum):
    """How a district meets a case dispatched to it."""

    WORK = "work"  # accept, and the rest of the run
    NEVER = "never"  # never accepted
    RETURN = "return"  # returned as another district's


@dataclass(frozen=True)
class Suspension:
    """A suspension of the resolve clock: where in the run, how long, why."""

    at_frac: float  # of the way from the run's start to the resolve
    days: float  # working days
    reason: str


@dataclass(frozen=True)
class RunPlan:
    """Every choice of one actor in one run of one case (each actor reads the fields it acts on)."""

    fate: Fate
    accept_frac: float
    return_frac: float
    suggest: str  # the district a return suggests (never the returner)
    contact_frac: float
    suspension: Suspension | None
    resolve_frac: float
    result: ResolveResult
    visit_after_days: float | None  # None: never visited
    satisfaction: Satisfaction
    assign_after_days: float  # the city desk
    assign_to: str  # the city desk, for a triage case


def draw(seed: int, actor: str, case_id: str, run: int, mix: Mix = MIX) -> RunPlan:
    """The plan of ``actor`` for run ``run`` of ``case_id`` (the same inputs, the same plan)."""
    rng = random.Random(f"unionhub.sim.federation/{seed}/{actor}/{case_id}/{run}")
    fate_draw = rng.random()
    if fate_draw < mix.never_accept:
        fate = Fate.NEVER
    elif fate_draw < mix.never_accept + mix.wrong_district:
        fate = Fate.RETURN
    else:
        fate = Fate.WORK
    late = rng.random() < mix.late_accept / (1 - mix.never_accept - mix.wrong_district)
    accept_frac = _uniform(rng, mix.accept_late if late else mix.accept_on_time)
    return_frac = _uniform(rng, mix.return_at)
    suggest = rng.choice([d.slug for d in DISTRICTS if d.slug != actor])
    late_contact = rng.random() < mix.late_contact
    contact_frac = _uniform(rng, mix.contact_late if late_contact else mix.contact_on_time)
    suspend = rng.random() < mix.suspend
    suspension = Suspension(
        at_frac=_uniform(rng, mix.suspend_at),
        days=_uniform(rng, mix.suspend_days),
        reason=rng.choice(SUSPEND_REASONS),
    )
    resolve_frac = _uniform(rng, mix.resolve_at)
    result = _weighted(rng, mix.results)
    visited = rng.random() >= mix.never_visit
    visit_after = _uniform(rng, mix.visit_after_days)
    satisfaction = _weighted(rng, mix.satisfactions)
    if satisfaction is Satisfaction.DISSATISFIED and run > mix.last_dissatisfied_run:
        satisfaction = Satisfaction.BASICALLY_SATISFIED
    return RunPlan(
        fate=fate,
        accept_frac=accept_frac,
        return_frac=return_frac,
        suggest=suggest,
        contact_frac=contact_frac,
        suspension=suspension if suspend else None,
        resolve_frac=resolve_frac,
        result=result,
        visit_after_days=visit_after if visited else None,
        satisfaction=satisfaction,
        assign_after_days=_uniform(rng, mix.assign_after_days),
        assign_to=rng.choice([d.slug for d in DISTRICTS]),
    )


def _uniform(rng: random.Random, span: Span) -> float:
    return rng.uniform(span.lo, span.hi)


def _weighted(rng: random.Random, choices: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights=weights)[0]
