"""Every hostile test runs with its log lines captured and scanned for personal numbers.

structlog events are captured as the code emits them (before the masker), so a
pass proves no ID number, full phone number or secret was handed to a logger
at all; stdlib records (aiohttp, aiokafka) are scanned as formatted, from WARNING up
as in production.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from tests.hostile.pii import SECRETS, leaks


@pytest.fixture(autouse=True)
def no_pii_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Fail the test if any captured log line holds a personal number or a known secret."""
    # configure_logging lets library loggers emit WARNING and above only (aiokafka's DEBUG
    # lines quote whole messages, which on intake.raw carry clear personal numbers).
    caplog.set_level(logging.WARNING)
    lines: list[str] = []
    with capture_logs() as events:
        yield lines
    lines += [repr(event) for event in events]
    for phase in ("setup", "call"):  # in teardown, caplog.records holds teardown's only
        lines += [record.getMessage() for record in caplog.get_records(phase)]
    leaked = [line[:200] for line in lines if leaks(line)]
    assert not leaked, f"log lines leak personal numbers or secrets: {leaked[:3]}"
    assert SECRETS  # the scan knows what to look for
