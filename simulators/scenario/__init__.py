"""Seeded scenario generation: incidents, the records each channel serves, and ground truth."""

from simulators.scenario.model import (
    ExpectedDeadLetter,
    ExpectedVersion,
    Incident,
    RecordVersion,
    Scenario,
)

__all__ = ["ExpectedDeadLetter", "ExpectedVersion", "Incident", "RecordVersion", "Scenario"]
