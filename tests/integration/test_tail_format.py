"""Targets, ``--since`` and line rendering of ``unionhub tail`` (no broker needed).

Kept beside the tail's integration tests, which own these modules; nothing
here touches Kafka.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ConfigError
from core.kafka.topics import TopicCatalog
from unionhub.operators.errors import UnknownTargetError
from unionhub.operators.formatting import (
    Segment,
    clean,
    deadletter_segments,
    display_width,
    raw_segments,
    render,
)
from unionhub.operators.tail import parse_since
from unionhub.operators.targets import resolve_target

CATALOG = TopicCatalog("ns1.")


@pytest.mark.parametrize("target", ["nanshan", "NanShan", "南山区", "南山", " 南山 "])
def test_districts_by_slug_or_chinese_name(target: str) -> None:
    assert resolve_target(target, CATALOG) == "ns1.dispatch.nanshan"


def test_special_districts_triage_and_catalogue_topics_take_the_namespace() -> None:
    assert resolve_target("大鹏新区", CATALOG) == "ns1.dispatch.dapeng"
    assert resolve_target("深汕", CATALOG) == "ns1.dispatch.shenshan"
    assert resolve_target("triage", CATALOG) == "ns1.dispatch.triage"
    assert resolve_target("alerts.risk", CATALOG) == "ns1.alerts.risk"
    assert resolve_target("intake.raw.citizen_app", CATALOG) == "ns1.intake.raw.citizen_app"
    assert resolve_target("ns1.router.dlq", CATALOG) == "ns1.router.dlq"
    assert resolve_target("someone.elses.topic", CATALOG) == "someone.elses.topic"
    assert resolve_target("alerts.risk", TopicCatalog()) == "alerts.risk"


@pytest.mark.parametrize("target", ["东莞", "no spaces allowed", "..", "a/b", ""])
def test_other_targets_are_refused(target: str) -> None:
    with pytest.raises(UnknownTargetError, match="not a district"):
        resolve_target(target, CATALOG)


def test_since_takes_durations_and_times_with_an_offset() -> None:
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("3d", now) == now - timedelta(days=3)
    assert parse_since("1w", now) == now - timedelta(weeks=1)
    assert parse_since("2026-11-29T08:00+08:00", now) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert parse_since("2026-11-29T00:00:00Z", now) == datetime(2026, 11, 29, tzinfo=UTC)
    with pytest.raises(ConfigError, match="UTC offset"):
        parse_since("2026-11-29T08:00", now)
    with pytest.raises(ConfigError, match="duration"):
        parse_since("yesterday", now)


def test_clean_text_is_one_masked_line_without_control_characters() -> None:
    text = "身份证440305199001011234\n电话 13812345678\x1b[31m红色\x07"
    cleaned = clean(text)
    assert "\n" not in cleaned
    assert "\x1b" not in cleaned
    assert "\x07" not in cleaned
    assert "440305199001011234" not in cleaned
    assert "13812345678" not in cleaned
    assert "138****5678" in cleaned


def test_render_pads_columns_and_cuts_wide_text_on_a_column_boundary() -> None:
    segments = [Segment("ab", 4), Segment("南山", 6), Segment("欠薪欠薪欠薪")]
    assert render(segments, None, color=False) == "ab   南山   欠薪欠薪欠薪"
    cut = render(segments, 18, color=False)
    assert cut == "ab   南山   欠薪…"
    assert display_width(cut) <= 18


def test_dead_letters_show_stage_error_and_masked_message() -> None:
    letter = {
        "schema": "unionhub.deadletter/1",
        "stage": "intake",
        "channel": "hotline_12351",
        "connector": "hotline",
        "external_id": "H-9",
        "error": {"kind": "bad_phone", "message": "phone 13812345678 has no area code"},
        "raw": "...",
        "raw_encoding": "utf-8",
        "source": "http://x",
        "at": "2026-11-29T01:02:03+00:00",
    }
    line = render(deadletter_segments(letter, None), None, color=False)
    assert line.startswith("2026-11-29 01:02:03Z DEAD intake/hotline_12351")
    assert "bad_phone: phone 138****5678 has no area code" in line


def test_raw_records_show_which_record_never_its_content() -> None:
    envelope = {
        "schema": "unionhub.raw/1",
        "channel": "citizen_app",
        "connector": "app",
        "external_id": "APP-7",
        "version": "3",
        "fetched_at": "2026-11-29T01:02:03+00:00",
        "source": "http://127.0.0.1:18081/cases?page=2",
        "record": {"name": "陈大文", "phone": "13812345678"},
        "raw_text": None,
    }
    line = render(raw_segments(envelope, None), None, color=False)
    assert line.startswith("2026-11-29 01:02:03Z RAW citizen_app")
    assert "id=APP-7" in line
    assert "v=3" in line
    assert "陈大文" not in line
    assert "5678" not in line
