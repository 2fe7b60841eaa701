"""The dedupe stage's state records, as kept in the compacted changelog.

Keys: ``r/<channel>/<external_id>`` a report, ``c/<case_id>`` a case. Values
are JSON of the models below. Indexes are not stored: they are rebuilt from
the reports after a restore.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.complaint import NormalizedReport, Placement
from schemas.dispatch import SourceRef

REPORT_PREFIX = "r/"
CASE_PREFIX = "c/"


def report_key(channel: str, external_id: str) -> str:
    """State key of a report."""
    return f"{REPORT_PREFIX}{channel}/{external_id}"


class ReportState(BaseModel):
    """A report seen by the router: its first version and the versions seen since."""

    model_config = ConfigDict(frozen=False)

    seq: int = Field(description="Arrival order of the first version (0, 1, ...).")
    first: NormalizedReport = Field(
        description="The first version (dedupe and routing fields); its summary is dropped."
    )
    case_id: str = Field(description="The case the report belongs to now.")
    versions: list[str] = Field(description="Version labels seen, in arrival order.")
    latest_version_key: str = Field(description="version_key of the newest version seen.")

    @property
    def key(self) -> str:
        """State key."""
        return report_key(self.first.channel, self.first.external_id)


class CaseState(BaseModel):
    """A case: where it was dispatched and which reports it holds."""

    model_config = ConfigDict(frozen=False)

    case_id: str = Field(description="Stable id (from the report that opened it).")
    dispatch_seq: int = Field(description="seq of the report that opened it: dispatch order.")
    placement: Placement = Field(description="Where the opening report placed it.")
    sources: list[SourceRef] = Field(description="Every report of the case, in joining order.")

    @property
    def key(self) -> str:
        """State key."""
        return f"{CASE_PREFIX}{self.case_id}"
