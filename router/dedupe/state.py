"""The dedupe stage's changelog keys: ``r/<channel>/<external_id>`` a report, ``c/<id>`` a case.

Values are the compact orjson dicts of :mod:`router.dedupe.codec`; the
indexes are derived from them by the local store (:mod:`router.dedupe.store`).
"""

from __future__ import annotations

from router.dedupe.codec import CaseState, StoredReport

REPORT_PREFIX = "r/"
CASE_PREFIX = "c/"

__all__ = ["CASE_PREFIX", "REPORT_PREFIX", "CaseState", "StoredReport", "report_key"]


def report_key(channel: str, external_id: str) -> str:
    """State key of a report."""
    return f"{REPORT_PREFIX}{channel}/{external_id}"
