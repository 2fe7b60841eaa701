"""The figures of a chaos run: the checker's, what the driver did, faults, and the leak scan."""

from __future__ import annotations

from dataclasses import dataclass

from chaos.driver import Tally
from chaos.scan import ScanResult
from checker import CheckReport

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

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing dispatched twice, the scan found nothing."""
        return self.check.lost == 0 and self.check.dispatched_twice == 0 and self.scan.hits == 0

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
        lines.append("== upstream faults injected (by channel.kind) ==")
        lines += [f"{kind:<42} {n:>7}" for kind, n in sorted(self.faults.items())]
        lines.append(f"{'total':<42} {sum(self.faults.values()):>7}")
        lines += ["== leak scan ==", self.scan.format()]
        if self.check.problems:
            lines.append("== checker problems (first ones) ==")
            lines += [f"  - {p}" for p in self.check.problems]
        lines.append(f"== {'PASS' if self.ok else 'FAIL'} in {self.seconds:.0f} s ==")
        return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
