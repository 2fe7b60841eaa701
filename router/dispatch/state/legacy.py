"""Dispatch state written before the compact format, upgraded as it is restored.

Until 2026-11-29 the dispatch stage wrote whole pydantic dumps to its changelog
(``ReportState``, ``CaseState`` and ``AlertState`` models). Compaction keeps a
key's last value, so such records stay in ``unionhub.router.state`` until
their key is written again; each replay upgrades them to the compact values of
:mod:`router.dispatch.state.codec` rather than failing on them.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.dispatch.state.codec import AlertState, CaseState, FirstVersion, StoredReport
from router.dispatch.state.keys import ALERT_PREFIX, CASE_PREFIX, REPORT_PREFIX
from schemas.complaint import NormalizedReport, Placement
from schemas.dispatch import SourceRef

# Field names only the old dumps have at their top level. Inside a JSON string a quote
# is escaped, so user text cannot produce these byte sequences.
_OLD_REPORT = b'"latest_version_key":'
_OLD_CASE = b'"dispatch_seq":'
_OLD_ALERT = b'"alert_id":'


def upgrade(key: str, value: bytes | None) -> bytes | None:
    """``value`` in the current format: an old-format value converted, any other unchanged."""
    if value is None:
        return None
    if key.startswith(REPORT_PREFIX) and _OLD_REPORT in value:
        return _report(orjson.loads(value))
    if key.startswith(CASE_PREFIX) and _OLD_CASE in value:
        return _case(orjson.loads(value))
    if key.startswith(ALERT_PREFIX) and _OLD_ALERT in value:
        return AlertState.model_validate_json(value).encode()
    return value


def _report(old: dict[str, Any]) -> bytes:
    first = NormalizedReport.model_validate(old["first"])
    return StoredReport(
        old["seq"],
        old["case_id"],
        old["versions"],
        old["latest_version_key"],
        FirstVersion.of(first),
    ).encode()


def _case(old: dict[str, Any]) -> bytes:
    return CaseState(
        old["case_id"],
        old["dispatch_seq"],
        Placement.model_validate(old["placement"]),
        [SourceRef.model_validate(source) for source in old["sources"]],
    ).encode()
