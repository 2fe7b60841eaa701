"""The figures of one loop check and their table (the style of :mod:`checker.report`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

# Figures that must be 0 for a clean run.
FAILING = (
    "case_states_missing",
    "case_states_extra",
    "case_states_wrong",
    "sla_alerts_missing",
    "sla_alerts_extra",
    "sla_alerts_raised_twice",
    "sla_alerts_raised_late",
    "sla_alerts_wrong",
    "actions_lost",
    "actions_applied_twice",
    "actions_applied_wrongly",
    "actions_refused_wrongly",
    "case_moves_wrong",
    "figures_wrong",
    "malformed_messages",
)


@dataclass
class LoopReport:
    """How a run's case loop (``cases.state``, ``alerts.sla``, refusals, figures) compares
    with the checker's own replay of its inputs.

    Counts are of distinct things: cases, alert keys (case, clock, level,
    restart), action ids, (scope, figure) pairs. ``problems`` holds a sample
    naming case and action ids only. ``ok`` holds when every figure of
    :data:`FAILING` is 0.
    """

    cases_expected: int = 0  # cases with a state at the evaluation time (merged ones excluded)
    case_states_seen: int = 0
    cases_raced: int = 0  # an action and a report or alert of the case in flight at once
    case_states_missing: int = 0
    case_states_extra: int = 0  # states of cases that do not exist (or were merged away)
    case_states_wrong: int = 0  # cases with at least one wrong field
    sla_alerts_expected: int = 0  # reached by the evaluation time (optional ones excluded)
    sla_alerts_optional: int = 0  # reached too close to the evaluation time to demand
    sla_alerts_published: int = 0  # distinct keys on alerts.sla
    sla_alerts_missing: int = 0
    sla_alerts_extra: int = 0
    sla_alerts_raised_twice: int = 0  # a key more than once, or one alert_id for two keys
    sla_alerts_raised_late: int = 0  # raised_at past level_at + tolerance (downtime aside)
    sla_alerts_wrong: int = 0  # matched, with another level_at, due_at, district or urgency
    actions_sent: int = 0  # distinct action ids (messages without one: by offset)
    actions_applied: int = 0  # by the checker's replay
    actions_refused: int = 0  # by the checker's replay
    actions_lost: int = 0  # neither in the case's history nor refused
    actions_applied_twice: int = 0  # an action id twice in one history
    actions_applied_wrongly: int = 0  # in a history, though they do not fit the case
    actions_refused_wrongly: int = 0  # refused, though they fit
    case_moves_expected: int = 0  # case_returned / case_assigned events
    case_moves_wrong: int = 0  # missing or extra ones
    figures_compared: int = 0
    figures_wrong: int = 0
    malformed_messages: int = 0  # loop messages that break the contract
    wrong_fields: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    MAX_PROBLEMS = 40

    def note(self, problem: str) -> None:
        """Keep ``problem`` as an example (the first :attr:`MAX_PROBLEMS` only)."""
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        """Every failing figure is 0."""
        return not any(getattr(self, name) for name in FAILING)

    def figures(self) -> dict[str, int]:
        """Every count by name, in table order (then each wrong field's count)."""
        skip = {"wrong_fields", "problems"}
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out |= {f"case_state_field_{k}_wrong": n for k, n in sorted(self.wrong_fields.items())}
        return out

    def format(self) -> str:
        """A two-column table (``sla alerts missing  0``), the verdict, the problems."""
        rows = {name.replace("_", " "): value for name, value in self.figures().items()}
        width = max(len(name) for name in rows)
        lines = [f"{name:<{width}}  {value:>7}" for name, value in rows.items()]
        lines.append(f"{'loop verdict':<{width}}  {'OK' if self.ok else 'FAILED':>7}")
        if self.problems:
            lines.append("loop problems (first ones):")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
