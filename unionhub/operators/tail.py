"""Read a topic the way an operator wants to see it: ``unionhub tail``.

The reader never joins a consumer group: it ``assign()``s every partition with
no group id, so it cannot take partitions from the router or a district's
consumers and commits nothing. It reads read_committed, like every downstream
reader. Without ``follow`` it stops at the end offsets taken when it started.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError

from core.errors import ConfigError, KafkaAccessError
from core.kafka.clients import admin_client, committed_consumer
from core.kafka.reading import fetch_to_end
from core.kafka.topics import TopicCatalog
from unionhub.operators.errors import TopicNotFoundError
from unionhub.operators.formatting import (
    ALERT_SCHEMA,
    DEADLETTER_SCHEMA,
    DISPATCH_SCHEMA,
    RAW_SCHEMA,
    alert_segments,
    deadletter_segments,
    dispatch_segments,
    generic_segments,
    raw_segments,
    render,
)

CATEGORIES = (
    "wage_arrears",
    "work_injury",
    "social_insurance",
    "labor_contract",
    "dismissal",
    "working_hours",
    "occupational_safety",
    "other",
)
EVENT_TYPES = ("new_case", "duplicate_report", "case_updated", "case_merged")
ALERT_KINDS = ("group_dispute", "mass_report")

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

# Tail joins no group; its client id only names it in broker logs.
_CLIENT_ID = TopicCatalog().client_id("tail")


@dataclass(frozen=True)
class FromBeginning:
    """Start at the first record still kept."""


@dataclass(frozen=True)
class Since:
    """Start at the first record whose Kafka timestamp is at or after ``at``."""

    at: datetime


@dataclass(frozen=True)
class LastRecords:
    """Start at the last ``count`` records of each partition (before filters)."""

    count: int


StartPosition = FromBeginning | Since | LastRecords


@dataclass(frozen=True)
class TailOptions:
    """What to read and how to print it.

    ``categories`` and ``event_types`` keep only records having one of those
    values (``event_types`` also matches an alert's ``kind``); empty keeps all.
    ``width`` cuts human lines to that many columns (None: no cut).
    """

    start: StartPosition = field(default_factory=lambda: LastRecords(10))
    follow: bool = False
    output: Literal["human", "json"] = "human"
    categories: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    width: int | None = None
    color: bool = False


@dataclass
class TailSummary:
    """How many records were read, and how many of them were shown."""

    read: int = 0
    shown: int = 0


def parse_since(text: str, now: datetime) -> datetime:
    """``2h``, ``30m``, ``90s``, ``3d``, ``1w`` before ``now``, or an ISO-8601 time with offset."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match:
        amount, unit = match.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            "--since", "use a duration like 2h, 30m, 3d or a time like 2026-11-29T08:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise ConfigError("--since", "give the time's UTC offset, e.g. 2026-11-29T08:00+08:00")
    return parsed.astimezone(UTC)


def _matches(value: Any, options: TailOptions) -> bool:
    if not options.categories and not options.event_types:
        return True
    if not isinstance(value, dict):
        return False
    if options.categories and value.get("category") not in options.categories:
        return False
    kind = value.get("event_type", value.get("kind"))
    return not options.event_types or kind in options.event_types


def format_record(record: ConsumerRecord[bytes, bytes], options: TailOptions) -> str | None:
    """The line to print for ``record``, or None when the filters leave it out."""
    raw: bytes | None = record.value
    value: Any = None
    if raw is not None:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
    if not _matches(value, options):
        return None
    if options.output == "json":
        return "null" if raw is None else raw.decode("utf-8", errors="replace")
    schema = value.get("schema") if isinstance(value, dict) else None
    if isinstance(value, dict) and schema == DISPATCH_SCHEMA:
        segments = dispatch_segments(value, record.timestamp)
    elif isinstance(value, dict) and schema == ALERT_SCHEMA:
        segments = alert_segments(value, record.timestamp)
    elif isinstance(value, dict) and schema == DEADLETTER_SCHEMA:
        segments = deadletter_segments(value, record.timestamp)
    elif isinstance(value, dict) and schema == RAW_SCHEMA:
        segments = raw_segments(value, record.timestamp)
    else:
        segments = generic_segments(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            record.timestamp,
        )
    return render(segments, options.width, options.color)


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    async with admin_client(bootstrap) as admin:
        (described,) = await admin.describe_topics([topic])
    # Describe first: the topics a principal may not see are missing from its listing too.
    if described["error_code"] == TopicAuthorizationFailedError.errno:
        raise KafkaAccessError(
            f"{topic}: this client's principal may not read it (Kafka ACLs refuse Describe)"
        )
    if described["error_code"] != 0 or not described["partitions"]:
        raise TopicNotFoundError(topic)
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])


async def _seek_start(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], start: StartPosition
) -> None:
    if isinstance(start, FromBeginning):
        await consumer.seek_to_beginning(*tps)
        return
    if isinstance(start, Since):
        found = await consumer.offsets_for_times(
            {tp: int(start.at.timestamp() * 1000) for tp in tps}
        )
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            hit = found.get(tp)
            consumer.seek(tp, hit.offset if hit is not None else ends[tp])
        return
    begins = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, await _start_of_last(consumer, tp, start.count, begins[tp], ends[tp]))


async def _start_of_last(
    consumer: AIOKafkaConsumer, tp: TopicPartition, count: int, begin: int, end: int
) -> int:
    """Offset of the ``count``-th last record before ``end``.

    Transaction markers and aborted records take offsets too, so "end - count"
    may hold fewer records: read back a window that doubles until it does.
    """
    window = count
    while count > 0:
        start = max(begin, end - window)
        consumer.seek(tp, start)
        offsets: list[int] = []
        async for batch in fetch_to_end(consumer, {tp: end}, timeout_ms=300):
            offsets += [r.offset for r in batch]
        if len(offsets) >= count:
            return offsets[-count]
        if start == begin:
            return begin
        window *= 2
    return end


async def tail(
    bootstrap: str,
    topic: str,
    options: TailOptions,
    emit: Callable[[str], None],
    *,
    stop: asyncio.Event | None = None,
    client_id: str = _CLIENT_ID,
) -> TailSummary:
    """Print ``topic``'s records through ``emit``, one line each, as ``options`` say.

    Returns when the end offsets taken at the start are reached, or, with
    ``follow``, when ``stop`` is set (or the task is cancelled).
    """
    tps = await _partitions(bootstrap, topic)
    consumer = committed_consumer(bootstrap, group_id=None, client_id=client_id)
    await consumer.start()
    summary = TailSummary()
    try:
        consumer.assign(tps)
        await _seek_start(consumer, tps, options.start)
        ends = await consumer.end_offsets(tps)
        while True:
            if stop is not None and stop.is_set():
                break
            active: Collection[TopicPartition] = tps
            if not options.follow:
                active = [tp for tp in tps if await consumer.position(tp) < ends[tp]]
                if not active:
                    break
            batch = await consumer.getmany(*active, timeout_ms=300)
            for records in batch.values():
                for record in records:
                    summary.read += 1
                    line = format_record(record, options)
                    if line is not None:
                        summary.shown += 1
                        emit(line)
    finally:
        await consumer.stop()
    return summary
