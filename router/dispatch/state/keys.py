"""The dispatch stage's changelog keys: ``r/<channel>/<external_id>`` a report, ``c/<id>`` a
case, ``a/<id>`` an alert, ``l/<case_id>`` a case's loop state.

Values are the compact orjson dicts of :mod:`router.dispatch.state.codec`; the
indexes are derived from them by the local store (:mod:`router.dispatch.state.index`).
"""

from __future__ import annotations

REPORT_PREFIX = "r/"
CASE_PREFIX = "c/"
ALERT_PREFIX = "a/"
LOOP_PREFIX = "l/"  # a case's loop state (caseloop.md), key l/<case_id>


def report_key(channel: str, external_id: str) -> str:
    """State key of a report."""
    return f"{REPORT_PREFIX}{channel}/{external_id}"
