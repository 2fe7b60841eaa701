"""Personal numbers and secrets never reach a log line in clear."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from pydantic import SecretStr

from core.logging import PiiMasker, configure_logging
from core.pii import contains_numbers, mask_numbers, mask_phone
from core.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证44030519900101123X请回电", "身份证440305********123X请回电"),
        ("电话13812345678", "电话138****5678"),
        ("+8613812345678", "138****5678"),
        ("座机0755-26881234", "座机0755-****1234"),
        ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
        ("2025-05-23 14:05:09 欠薪370000元", "2025-05-23 14:05:09 欠薪370000元"),
        ("ts=1748000000000", "ts=1748000000000"),
    ],
)
def test_mask_numbers(text: str, expected: str) -> None:
    assert mask_numbers(text) == expected
    assert not contains_numbers(mask_numbers(text))


def test_mask_phone_keeps_area_code_of_landlines() -> None:
    assert mask_phone("075526881234") == "0755-****1234"
    assert mask_phone("13812345678") == "138****5678"


def test_masker_walks_nested_values_and_secrets() -> None:
    masker = PiiMasker(["s3cret-token"])
    event = {
        "event": "poll failed",
        "detail": {"phones": ["13812345678"], "auth": "Bearer s3cret-token"},
        "count": 3,
    }
    masked = masker(None, "info", event)
    assert masked == {
        "event": "poll failed",
        "detail": {"phones": ["138****5678"], "auth": "Bearer ***"},
        "count": 3,
    }


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo ``configure_logging``: its loggers would keep writing to capsys' closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


@pytest.mark.usefixtures("restore_logging")
def test_configured_logging_masks_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json", admin_token=SecretStr("admin-token-xyz")))
    log = structlog.get_logger("test")
    log.info("caller 13812345678 id 44030519900101123X", token="admin-token-xyz")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert "13812345678" not in line
    assert "44030519900101123X" not in line
    assert "admin-token-xyz" not in line
    assert record["token"] == "***"
