"""The figures of one check and their table."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class CheckReport:
    """How a run's published topics compare with a scenario's ground truth.

    Every figure counts distinct things (versions, cases, alerts, messages);
    ``problems`` holds a sample of what went wrong, with upstream ids only (no
    personal data). ``ok`` holds when every exact figure is clean.
    """

    versions_expected: int = 0  # settled record versions of the truth
    versions_dispatched: int = 0  # distinct (channel, external_id, version) in dispatch events
    events: int = 0  # distinct dispatch events (a case_merged on several topics counts once)
    lost: int = 0  # expected versions with no dispatch event and no dead letter
    dispatched_twice: int = 0  # versions in more than one event (or one event twice on a topic)
    unexpected_versions: int = 0  # dispatched versions the truth says cannot be seen
    misrouted_cases: int = 0  # cases with an event in the wrong district or triage reason
    wrongly_merged: int = 0  # extra truth cases inside dispatched cases
    wrongly_split: int = 0  # extra dispatched cases a truth case is spread over
    wrong_event_types: int = 0  # events whose type the truth does not accept for the version
    alerts_expected: int = 0
    alerts_published: int = 0  # distinct alert_ids on alerts.risk
    alerts_missing: int = 0  # truth alerts matched by no published alert
    alerts_extra: int = 0  # published alerts matching no truth alert
    alerts_wrong: int = 0  # matched alerts with other cases, or employer mixed up
    dead_letters_expected: int = 0
    dead_letters_found: int = 0  # expected dead letters present on intake.dlq or router.dlq
    dead_letters_unexpected: int = 0  # dead-lettered records the truth does not expect
    pii_leaks: int = 0  # dispatch/alert messages with a clear ID number or phone number
    malformed_messages: int = 0  # values that are not JSON objects with the contract's fields
    problems: list[str] = field(default_factory=list)

    MAX_PROBLEMS = 40

    def note(self, problem: str) -> None:
        """Keep ``problem`` as an example (the first :attr:`MAX_PROBLEMS` only)."""
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def dead_letters_missing(self) -> int:
        """Expected dead letters not found."""
        return self.dead_letters_expected - self.dead_letters_found

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing twice, and every exact comparison clean."""
        return not any(
            (
                self.lost,
                self.dispatched_twice,
                self.unexpected_versions,
                self.misrouted_cases,
                self.wrongly_merged,
                self.wrongly_split,
                self.wrong_event_types,
                self.alerts_missing,
                self.alerts_extra,
                self.alerts_wrong,
                self.dead_letters_missing,
                self.dead_letters_unexpected,
                self.pii_leaks,
                self.malformed_messages,
            )
        )

    def figures(self) -> dict[str, int]:
        """Every figure by name (``problems`` excluded), in table order."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "problems"}
        out["dead_letters_missing"] = self.dead_letters_missing
        return out

    def format(self) -> str:
        """A two-column table of the figures, the verdict, and the sample of problems."""
        figures = self.figures()
        width = max(len(name) for name in figures)
        lines = [f"{name:<{width}}  {value:>7}" for name, value in figures.items()]
        lines.append(f"{'verdict':<{width}}  {'OK' if self.ok else 'FAILED':>7}")
        if self.problems:
            lines.append("problems (first ones):")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
