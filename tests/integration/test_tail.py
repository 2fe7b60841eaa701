"""``unionhub tail`` against the real broker: the function and the command, both modes."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from core.kafka.clients import admin_client, transactional_producer
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from tests.kafka_helpers import eventually
from unionhub.operators.errors import TopicNotFoundError
from unionhub.operators.formatting import display_width
from unionhub.operators.tail import (
    FromBeginning,
    LastRecords,
    Since,
    TailOptions,
    TailSummary,
    tail,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


@pytest.fixture
async def topics(settings: Settings) -> TopicCatalog:
    """Only the topics these tests read (nanshan's queue, alerts), in this test's namespace."""
    catalog = TopicCatalog(settings.namespace)
    wanted = {catalog.dispatch("nanshan"), catalog.alerts}
    async with admin_client(settings.kafka_bootstrap) as admin:
        await ensure_topics(admin, [spec for spec in catalog.specs() if spec.name in wanted])
    return catalog


def dispatch_event(
    event_type: str = "new_case",
    category: str = "wage_arrears",
    summary: str = "工厂拖欠三个月工资，老板失联",
    **overrides: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema": "unionhub.dispatch/1",
        "event_id": uuid.uuid4().hex,
        "event_type": event_type,
        "case_id": "case-" + uuid.uuid4().hex[:8],
        "district": "nanshan",
        "routing_reason": "problem location: 南山区",
        "triage_reason": None,
        "category": category,
        "report": {
            "channel": "citizen_app",
            "external_id": "APP-1",
            "version": "1",
            "reported_at": "2026-11-28T08:00:00+00:00",
            "fetched_at": "2026-11-28T08:01:00+00:00",
        },
        "sources": [{"channel": "citizen_app", "external_id": "APP-1"}],
        "complainant": {"name_masked": "陈*", "phone_masked": "138****5678", "person_key": "pk1"},
        "employer": {"name": "深圳市南山精密电子有限公司", "uscc": None, "address": None},
        "location": {"street": "南头", "address": None},
        "people_involved": 1,
        "summary": summary,
        "status": "received",
        "dispatched_at": NOW.isoformat(),
    }
    event.update(overrides)
    return event


ALERT = {
    "schema": "unionhub.alert/1",
    "alert_id": "alert-1",
    "kind": "group_dispute",
    "employer": {"name": "深圳市南山精密电子有限公司", "uscc": None},
    "district": "nanshan",
    "case_ids": ["case-1", "case-2", "case-3"],
    "persons": 6,
    "window_start": "2026-11-25T00:00:00+00:00",
    "window_end": "2026-11-28T00:00:00+00:00",
    "raised_at": NOW.isoformat(),
}


async def produce(
    settings: Settings,
    topic: str,
    values: list[dict[str, Any]],
    timestamps_ms: list[int] | None = None,
) -> None:
    """Write ``values`` to partition 0 of ``topic`` in one transaction."""
    producer = transactional_producer(settings.kafka_bootstrap, f"{settings.namespace}test-tail")
    await producer.start()
    try:
        async with producer.transaction():
            for index, value in enumerate(values):
                await producer.send(
                    topic,
                    orjson.dumps(value),
                    key=str(value.get("case_id", index)).encode(),
                    partition=0,
                    timestamp_ms=timestamps_ms[index] if timestamps_ms else None,
                    headers=[("schema", str(value["schema"]).encode())],
                )
    finally:
        await producer.stop()


async def run_tail(settings: Settings, topic: str, options: TailOptions) -> list[str]:
    lines: list[str] = []
    await tail(settings.kafka_bootstrap, topic, options, lines.append)
    return lines


def human(**kwargs: Any) -> TailOptions:
    return TailOptions(start=FromBeginning(), **kwargs)


async def test_human_lines_show_type_category_district_person_employer_summary(
    settings: Settings, topics: TopicCatalog
) -> None:
    await produce(
        settings,
        topics.dispatch("nanshan"),
        [
            dispatch_event(),
            dispatch_event("duplicate_report", summary="电话13912345678联系不上老板"),
        ],
    )
    lines = await run_tail(settings, topics.dispatch("nanshan"), human())
    assert len(lines) == 2
    first, second = lines
    for part in (
        "2026-11-29 01:00:00Z",
        "new_case",
        "wage_arrears",
        "nanshan",
        "陈* 138****5678",
        "深圳市南山精密电子有限公司",
        "工厂拖欠三个月工资，老板失联",
    ):
        assert part in first
    assert "duplicate_report" in second
    assert "13912345678" not in second, "numbers in free text are masked again"
    assert "139****5678" in second
    assert "pk1" not in first, "the person key is not shown"
    assert "\x1b[" not in first


async def test_lines_are_cut_to_the_width_counting_wide_characters(
    settings: Settings, topics: TopicCatalog
) -> None:
    await produce(settings, topics.dispatch("nanshan"), [dispatch_event(summary="欠薪" * 80)])
    (line,) = await run_tail(settings, topics.dispatch("nanshan"), human(width=160))
    assert display_width(line) <= 160
    assert display_width(line) >= 158
    assert line.endswith("…")
    assert "深圳市南山精密电子… " in line, "long employer names are cut to their column"


async def test_colours_only_when_asked(settings: Settings, topics: TopicCatalog) -> None:
    await produce(settings, topics.dispatch("nanshan"), [dispatch_event()])
    (line,) = await run_tail(settings, topics.dispatch("nanshan"), human(color=True))
    assert "\x1b[32mnew_case" in line


async def test_json_mode_prints_the_raw_values(settings: Settings, topics: TopicCatalog) -> None:
    events = [dispatch_event(), dispatch_event("case_updated")]
    await produce(settings, topics.dispatch("nanshan"), events)
    lines = await run_tail(
        settings, topics.dispatch("nanshan"), TailOptions(start=FromBeginning(), output="json")
    )
    assert [orjson.loads(line) for line in lines] == events


async def test_filters_keep_only_matching_categories_and_event_types(
    settings: Settings, topics: TopicCatalog
) -> None:
    await produce(
        settings,
        topics.dispatch("nanshan"),
        [
            dispatch_event("new_case", "wage_arrears"),
            dispatch_event("new_case", "work_injury"),
            dispatch_event("case_updated", "work_injury"),
            dispatch_event("case_merged", "dismissal"),
        ],
    )
    topic = topics.dispatch("nanshan")
    injuries = await run_tail(settings, topic, human(categories=frozenset({"work_injury"})))
    assert len(injuries) == 2
    assert all("work_injury" in line for line in injuries)
    updates = await run_tail(
        settings,
        topic,
        human(
            categories=frozenset({"work_injury"}),
            event_types=frozenset({"case_updated", "case_merged"}),
        ),
    )
    assert len(updates) == 1
    assert "case_updated" in updates[0]


async def test_since_starts_at_the_first_record_of_that_time(
    settings: Settings, topics: TopicCatalog
) -> None:
    now = datetime.now(UTC)
    old_ms = int((now - timedelta(hours=3)).timestamp() * 1000)
    new_ms = int((now - timedelta(minutes=5)).timestamp() * 1000)
    await produce(
        settings,
        topics.dispatch("nanshan"),
        [dispatch_event(summary="旧投诉"), dispatch_event(summary="新投诉")],
        timestamps_ms=[old_ms, new_ms],
    )
    lines = await run_tail(
        settings,
        topics.dispatch("nanshan"),
        TailOptions(start=Since(now - timedelta(hours=2))),
    )
    assert len(lines) == 1
    assert "新投诉" in lines[0]
    future = await run_tail(
        settings, topics.dispatch("nanshan"), TailOptions(start=Since(now + timedelta(hours=1)))
    )
    assert future == []


async def test_last_n_counts_records_not_offsets(settings: Settings, topics: TopicCatalog) -> None:
    topic = topics.dispatch("nanshan")
    # Three transactions: their commit markers take offsets between the records.
    for batch in range(3):
        events = [dispatch_event(summary=f"第{batch}批{i}") for i in range(2)]
        await produce(settings, topic, events)
    lines = await run_tail(settings, topic, TailOptions(start=LastRecords(3)))
    assert [line.rsplit(" ", 1)[-1] for line in lines] == ["第1批1", "第2批0", "第2批1"]
    everything = await run_tail(settings, topic, TailOptions(start=LastRecords(100)))
    assert len(everything) == 6


async def test_alerts_get_their_own_line(settings: Settings, topics: TopicCatalog) -> None:
    await produce(settings, topics.alerts, [ALERT])
    (line,) = await run_tail(settings, topics.alerts, human())
    for part in ("ALERT", "group_dispute", "nanshan", "persons=6", "cases=3", "2026-11-25"):
        assert part in line
    only_mass = await run_tail(
        settings, topics.alerts, human(event_types=frozenset({"mass_report"}))
    )
    assert only_mass == []


async def test_follow_prints_new_records_until_stopped_without_a_group(
    settings: Settings, topics: TopicCatalog
) -> None:
    topic = topics.dispatch("nanshan")
    async with admin_client(settings.kafka_bootstrap) as admin:
        before = {group[0] for group in await admin.list_consumer_groups()}
    await produce(settings, topic, [dispatch_event(summary="第一条")])
    lines: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        tail(
            settings.kafka_bootstrap,
            topic,
            TailOptions(start=FromBeginning(), follow=True),
            lines.append,
            stop=stop,
        )
    )

    def has_lines(count: int) -> Callable[[], Awaitable[bool]]:
        async def printed() -> bool:
            assert not task.done(), task
            return len(lines) >= count

        return printed

    await eventually(has_lines(1))
    await produce(settings, topic, [dispatch_event(summary="第二条")])
    await eventually(has_lines(2))
    async with admin_client(settings.kafka_bootstrap) as admin:
        during = {group[0] for group in await admin.list_consumer_groups()}
    stop.set()
    summary = await asyncio.wait_for(task, timeout=10)
    assert summary == TailSummary(read=2, shown=2)
    assert "第二条" in lines[1]
    async with admin_client(settings.kafka_bootstrap) as admin:
        after = {group[0] for group in await admin.list_consumer_groups()}
    # Other tests may create their own namespaced groups meanwhile; none may be ours
    # or carry no namespace at all.
    for group in (during | after) - before:
        assert not group.startswith(settings.namespace), group
        assert re.match(r"t[a-z]{12}\.", group), group


async def test_a_missing_topic_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(TopicNotFoundError, match="does not exist"):
        await run_tail(settings, f"{settings.namespace}no.such.topic", human())


# -- the command, in its own process ---------------------------------------------


def unionhub(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        UNIONHUB_NAMESPACE=settings.namespace,
        UNIONHUB_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        UNIONHUB_LOG_FORMAT="json",
        COLUMNS="120",
    )
    return subprocess.run(
        [sys.executable, "-m", "unionhub", "tail", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_cli_prints_human_lines_for_a_chinese_district_name(
    settings: Settings, topics: TopicCatalog
) -> None:
    await produce(
        settings,
        topics.dispatch("nanshan"),
        [dispatch_event(summary="欠薪" * 100), dispatch_event("case_updated", "work_injury")],
    )
    result = await asyncio.to_thread(unionhub, settings, "南山区", "--from-beginning")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(display_width(line) <= 120 for line in lines)
    assert "\x1b[" not in result.stdout, "no colours when stdout is not a terminal"
    assert lines[0].endswith("…")
    filtered = await asyncio.to_thread(
        unionhub, settings, "nanshan", "--category", "work_injury", "--event-type", "case_updated"
    )
    assert filtered.returncode == 0, filtered.stderr
    assert len(filtered.stdout.splitlines()) == 1
    assert "case_updated" in filtered.stdout


async def test_cli_json_mode_and_topic_names(settings: Settings, topics: TopicCatalog) -> None:
    await produce(settings, topics.alerts, [ALERT])
    result = await asyncio.to_thread(unionhub, settings, "alerts.risk", "--json", "--since", "1h")
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(line) for line in result.stdout.splitlines()] == [ALERT]
    human_result = await asyncio.to_thread(unionhub, settings, "alerts.risk")
    assert "ALERT group_dispute" in human_result.stdout


async def test_cli_refuses_unknown_targets_and_bad_since(
    settings: Settings, topics: TopicCatalog
) -> None:
    missing = await asyncio.to_thread(unionhub, settings, "no.such.topic")
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    bad_since = await asyncio.to_thread(unionhub, settings, "nanshan", "--since", "yesterday")
    assert bad_since.returncode == 1
    assert "--since" in bad_since.stderr
    bad_category = await asyncio.to_thread(unionhub, settings, "nanshan", "--category", "x")
    assert bad_category.returncode == 2
