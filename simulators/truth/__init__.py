"""Ground truth: what a correct unionhub outputs for a scenario, from its records alone.

An independent second implementation of dispatch.md's routing, dedupe and
alert rules. It reads the records the simulators serve (never the generator's
incidents) and imports nothing from ``router``. See ``simulators/README.md``
for what is order-independent and how a checker should compare.
"""

from simulators.truth.alerts import AlertTruth
from simulators.truth.compute import CaseTruth, GroundTruth, VersionTruth, compute_truth
from simulators.truth.reports import OUTSIDE, UNPLACED, Report

__all__ = [
    "OUTSIDE",
    "UNPLACED",
    "AlertTruth",
    "CaseTruth",
    "GroundTruth",
    "Report",
    "VersionTruth",
    "compute_truth",
]
