"""The figures of a chaos run: the checker's, what the driver did, faults, and the leak scan."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaos.driver import Tally
from chaos.loop import FIXED_FIGURES, LoopFigures
from chaos.replies import ReplyFigures
from chaos.scan import ScanResult
from checker import CheckReport
from unionhub.cli.stats import COLUMNS, aligned

# The checker's figures the chaos run prints, with their labels (issue 8's list).
FIGURES = (
    ("versions_expected", "records expected"),
    ("versions_dispatched", "records dispatched"),
    ("lost", "lost"),
    ("dispatched_twice", "dispatched twice"),
    ("unexpected_versions", "dispatched, not expected"),
    ("misrouted_cases", "misrouted cases"),
    ("wrongly_merged", "wrongly merged"),
    ("wrongly_split", "wrongly split"),
    ("wrong_event_types", "wrong event types"),
    ("alerts_expected", "alerts expected"),
    ("alerts_missing", "alerts missing"),
    ("alerts_extra", "alerts extra"),
    ("alerts_wrong", "alerts wrong"),
    ("dead_letters_expected", "dead letters expected"),
    ("dead_letters_found", "dead letters found"),
    ("dead_letters_unexpected", "dead letters unexpected"),
    ("pii_leaks", "personal numbers in public topics"),
    ("malformed_messages", "malformed messages"),
)


@dataclass
class ChaosReport:
    """Everything a chaos run measured. ``ok``: nothing lost, nothing twice, no leak."""

    check: CheckReport
    tally: Tally
    faults: dict[str, int]
    scan: ScanResult
    seconds: float
    replies: ReplyFigures = field(default_factory=ReplyFigures)
    loop: LoopFigures = field(default_factory=LoopFigures)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing dispatched twice, no reply missing or doubled, the case loop
        and its figures as the replay has them, no leak."""
        delivered = self.check.lost == 0 and self.check.dispatched_twice == 0
        return delivered and self.replies.ok and self.loop.ok and self.scan.hits == 0

    def format(self) -> str:
        """The table the run prints."""
        figures = self.check.figures()
        lines = ["== checker (ground truth) =="]
        lines += [f"{label:<42} {figures[name]:>7}" for name, label in FIGURES]
        lines.append(f"{'checker verdict':<42} {'clean' if self.check.ok else 'NOT CLEAN':>7}")
        t = self.tally
        lines += [
            "== chaos ==",
            f"{'daemon SIGKILLs':<42} {t.kills:>7}",
            f"{'broker restarts':<42} {t.broker_restarts:>7}",
            f"{'leader broker SIGKILLs (restarted)':<42} {len(t.broker_losses):>7}",
            *(
                f"{f'  node {loss.node_id}, busy partitions it led':<42} {loss.partitions_led:>7}"
                for loss in t.broker_losses
            ),
            f"{'daemon exits nobody caused':<42} {t.daemon_exits:>7}",
            f"{'stations forced down':<42} {t.stations_forced_down:>7}",
            f"{'secret rotations':<42} {t.secret_rotations:>7}",
            f"{'connector failed on old secret':<42} {_yes(t.connector_failed_on_old_secret):>7}",
            f"{'admin PUT the new secret, it ran':<42} {_yes(t.secret_fixed_by_admin):>7}",
        ]
        lines += [f"{'storm window ' + kind:<42} {n:>7}" for kind, n in sorted(t.storms.items())]
        r = self.replies
        lines += [
            "== replies (the upstreams' idempotency ledgers) ==",
            f"{'replies expected':<42} {r.expected:>7}",
            f"{'replies held upstream':<42} {r.upstream:>7}",
            f"{'replies refused (dead letters)':<42} {r.refused:>7}",
            f"{'replies missing':<42} {r.missing:>7}",
            f"{'replies duplicated upstream':<42} {r.duplicated:>7}",
            f"{'same key sent again, taken once':<42} {r.repeats_absorbed:>7}",
            f"{'daemon killed between send and commit':<42} {t.sink_kills:>7}",
        ]
        lines += _loop_lines(self.loop)
        lines.append("== upstream faults injected (by channel.kind) ==")
        lines += [f"{kind:<42} {n:>7}" for kind, n in sorted(self.faults.items())]
        lines.append(f"{'total':<42} {sum(self.faults.values()):>7}")
        lines += ["== leak scan ==", self.scan.format()]
        if self.check.problems:
            lines.append("== checker problems (first ones) ==")
            lines += [f"  - {p}" for p in self.check.problems]
        lines.append(f"== {'PASS' if self.ok else 'FAIL'} in {self.seconds:.0f} s ==")
        return "\n".join(lines)


def _loop_lines(loop: LoopFigures) -> list[str]:
    """The replay's figures, the federations' attempts and the daemon's month per district."""
    lines = ["== case loop (the checker's replay) ==", loop.report.format()]
    lines.append("== the federations' actions (by outcome) ==")
    lines += [f"{kind:<42} {n:>7}" for kind, n in sorted(loop.attempts.items())]
    month = loop.figures
    if month is None:
        return lines
    lines.append(f"== the daemon's figures {month.start:%Y-%m-%d} .. {month.end:%Y-%m-%d} ==")
    columns = [(name, label) for name, label in COLUMNS if name in FIXED_FIGURES]
    rows = [["district", *(label for _, label in columns)]]
    rows += [
        [scope, *(_cell(values[name]) for name, _ in columns)]
        for scope, values in month.scopes.items()
    ]
    return lines + aligned(rows)


def _cell(value: object) -> str:
    if isinstance(value, dict):  # a ratio: numerator and denominator, exact
        n, d = value["numerator"], value["denominator"]
        return f"{n / d:.1%} ({n}/{d})" if d else "-"
    return str(value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
