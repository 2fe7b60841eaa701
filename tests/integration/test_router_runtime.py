"""The exactly-once stage runtime against the real broker, in this process.

Each test runs a ``StageRuntime`` with the harness's tiny processors, waits
until the group has committed every input offset (so nothing more can come),
stops it, and compares everything committed downstream with what must be there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import pytest

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.runtime import StageConfig, StageConfigError, StageRuntime
from schemas.channels import Channel
from tests.integration.router_stage_main import (
    BOOM,
    HUGE,
    LEAKY_PHONE,
    CountingProcessor,
    UppercaseProcessor,
    end_offsets,
    produce,
    wait_committed,
)
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


def _config(settings: Settings, topics: TopicCatalog, *, stateful: bool) -> StageConfig:
    name = f"{settings.namespace}{'count' if stateful else 'upper'}"
    return StageConfig(
        name="count" if stateful else "upper",
        bootstrap=settings.kafka_bootstrap,
        input_topics=(topics.router_normalized,) if stateful else tuple(topics.raw_topics()),
        group_id=name,
        transactional_id_prefix=name,
        dead_letter_topic=topics.router_dlq,
        changelog_topic=topics.router_state if stateful else None,
        session_timeout_ms=6000,
    )


@asynccontextmanager
async def _running(runtime: StageRuntime) -> AsyncIterator[StageRuntime]:
    task = asyncio.create_task(runtime.run())
    try:
        yield runtime
    finally:
        runtime.stop()
        await task


async def _run_until_consumed(
    settings: Settings, config: StageConfig, runtime: StageRuntime
) -> None:
    targets = await end_offsets(settings.kafka_bootstrap, *config.input_topics)
    async with _running(runtime):
        await wait_committed(settings.kafka_bootstrap, config.group_id, targets)


def _dead_letters(records: list[object]) -> list[dict[str, object]]:
    return [orjson.loads(r.value) for r in records]  # type: ignore[attr-defined]


async def test_stateless_stage_writes_each_record_once_and_dead_letters_a_crash(
    settings: Settings, topics: TopicCatalog
) -> None:
    channels = list(Channel)
    inputs = [
        (topics.raw(channels[i % 5]), f"ext-{i}".encode(), f"m{i}".encode()) for i in range(60)
    ]
    await produce(
        settings.kafka_bootstrap, [*inputs, (topics.raw("hotline_12351"), b"ext-x", BOOM)]
    )
    config = _config(settings, topics, stateful=False)
    runtime = StageRuntime(config, UppercaseProcessor(topics.router_normalized))

    await _run_until_consumed(settings, config, runtime)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.router_normalized)
    assert sorted(r.value for r in outputs) == sorted(v.upper() for _, _, v in inputs)
    assert {r.key: r.value for r in outputs} == {k: v.upper() for _, k, v in inputs}
    dead = await read_to_end(settings.kafka_bootstrap, topics.router_dlq)
    assert len(dead) == 1
    assert LEAKY_PHONE.encode() not in dead[0].value
    letter = _dead_letters(dead)[0]
    assert letter["stage"] == "router"
    assert letter["channel"] == "hotline_12351"
    assert letter["external_id"] == "ext-x"
    assert letter["raw"] == "boom"
    assert letter["error"] == {
        "kind": "processor_error",
        "message": "upper stage: ValueError (exception text withheld)",
    }
    assert str(letter["source"]).startswith(f"{topics.raw('hotline_12351')}-")
    assert dict(dead[0].headers)["schema"] == b"unionhub.deadletter/1"
    status = runtime.status()
    assert status.counters.records_in == 61
    assert status.counters.records_out == 61
    assert status.counters.dead_letters == 1
    assert status.counters.aborts == 0


async def test_output_the_broker_refuses_is_dead_lettered_and_its_batch_still_commits(
    settings: Settings, topics: TopicCatalog
) -> None:
    raw = topics.raw("citizen_app")
    inputs = [(raw, b"same-key", f"m{i}".encode()) for i in range(10)]
    inputs.insert(5, (raw, b"same-key", HUGE))
    await produce(settings.kafka_bootstrap, inputs)
    config = _config(settings, topics, stateful=False)
    runtime = StageRuntime(config, UppercaseProcessor(topics.router_normalized))

    await _run_until_consumed(settings, config, runtime)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.router_normalized)
    assert [r.value for r in outputs] == [f"M{i}".encode() for i in range(10)]
    letters = _dead_letters(await read_to_end(settings.kafka_bootstrap, topics.router_dlq))
    assert [(d["raw"], d["channel"]) for d in letters] == [("huge", "citizen_app")]
    error = letters[0]["error"]
    assert isinstance(error, dict)
    assert error["kind"] == "output_rejected"
    assert runtime.status().counters.aborts >= 1


async def test_stateful_stage_continues_counting_from_the_changelog_after_restart(
    settings: Settings, topics: TopicCatalog
) -> None:
    normalized = topics.router_normalized
    await produce(
        settings.kafka_bootstrap, [(normalized, k, b"x") for k in (b"a", b"a", b"b", b"a")]
    )
    config = _config(settings, topics, stateful=True)
    first = StageRuntime(config, CountingProcessor(topics.alerts))
    await _run_until_consumed(settings, config, first)
    assert first.status().state_size == 2

    await produce(settings.kafka_bootstrap, [(normalized, k, b"x") for k in (b"a", b"b")])
    second = StageRuntime(config, CountingProcessor(topics.alerts))
    await _run_until_consumed(settings, config, second)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.alerts)
    assert [(r.key, r.value) for r in outputs] == [
        (b"a", b"1"),
        (b"a", b"2"),
        (b"b", b"1"),
        (b"a", b"3"),
        (b"a", b"4"),  # not 1: the count was restored from the changelog
        (b"b", b"2"),
    ]
    status = second.status()
    assert status.counters.restores >= 1
    assert status.counters.records_restored >= 2
    assert status.counters.records_in == 2
    assert status.state_size == 2
    changelog = await read_to_end(settings.kafka_bootstrap, topics.router_state)
    assert {r.key: r.value for r in changelog} == {b"a": b"4", b"b": b"2"}


async def test_stateful_processor_crash_rolls_its_state_back_and_dead_letters_the_record(
    settings: Settings, topics: TopicCatalog
) -> None:
    keys_values = [(b"a", b"x"), (b"a", b"x"), (b"a", BOOM), (b"a", b"x"), (b"b", b"x")]
    await produce(
        settings.kafka_bootstrap, [(topics.router_normalized, k, v) for k, v in keys_values]
    )
    config = _config(settings, topics, stateful=True)
    runtime = StageRuntime(config, CountingProcessor(topics.alerts))

    await _run_until_consumed(settings, config, runtime)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.alerts)
    # The crash bumped a's count in memory; had it not been rolled back, a would reach 4.
    assert [(r.key, r.value) for r in outputs] == [
        (b"a", b"1"),
        (b"a", b"2"),
        (b"a", b"3"),
        (b"b", b"1"),
    ]
    dead = await read_to_end(settings.kafka_bootstrap, topics.router_dlq)
    assert LEAKY_PHONE.encode() not in dead[0].value
    letters = _dead_letters(dead)
    assert [d["error"] for d in letters] == [
        {
            "kind": "processor_error",
            "message": "count stage: RuntimeError (exception text withheld)",
        }
    ]
    assert letters[0]["source"] == f"{topics.router_normalized}-0-2"
    assert runtime.status().counters.aborts >= 1


async def test_stateful_stage_refuses_more_than_one_input_partition(
    settings: Settings, topics: TopicCatalog
) -> None:
    config = _config(settings, topics, stateful=True)
    several = StageConfig(**{**vars(config), "input_topics": (topics.raw("citizen_app"),)})
    with pytest.raises(StageConfigError, match="exactly one input partition"):
        await StageRuntime(several, CountingProcessor(topics.alerts)).run()
    with pytest.raises(StageConfigError, match="needs a StatefulProcessor"):
        StageRuntime(config, UppercaseProcessor(topics.alerts))


async def test_a_stage_fails_clearly_when_its_topics_are_missing(settings: Settings) -> None:
    config = _config(settings, TopicCatalog(settings.namespace), stateful=False)
    quick = StageConfig(**{**vars(config), "topic_wait_s": 0.0})  # no `topics`: none exist
    with pytest.raises(StageConfigError, match=r"topics do not exist: .*intake\.raw\.citizen_app"):
        await StageRuntime(quick, UppercaseProcessor("out")).run()


async def test_a_second_member_stands_by_and_a_later_owner_continues_from_the_commit(
    settings: Settings, topics: TopicCatalog
) -> None:
    """Two members of one group on one input partition: one active, one standby."""
    normalized = topics.router_normalized
    await produce(settings.kafka_bootstrap, [(normalized, b"k", b"x")] * 5)
    config = _config(settings, topics, stateful=True)
    first = StageRuntime(config, CountingProcessor(topics.alerts, "first"))
    second = StageRuntime(config, CountingProcessor(topics.alerts, "second"))
    targets = await end_offsets(settings.kafka_bootstrap, normalized)
    async with _running(first):
        await wait_committed(settings.kafka_bootstrap, config.group_id, targets)
        async with _running(second):
            await _eventually_roles(first, second, {"active", "standby"})
    await produce(settings.kafka_bootstrap, [(normalized, b"k", b"x")] * 3)
    third = StageRuntime(config, CountingProcessor(topics.alerts, "third"))
    await _run_until_consumed(settings, config, third)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.alerts)
    assert [r.value for r in outputs] == [str(n).encode() for n in range(1, 9)]
    assert [dict(r.headers)["worker"] for r in outputs] == [b"first"] * 5 + [b"third"] * 3


async def _eventually_roles(first: StageRuntime, second: StageRuntime, roles: set[str]) -> None:
    async def settled() -> bool:
        return {first.status().role, second.status().role} == roles and all(
            r.status().ready for r in (first, second)
        )

    await eventually(settled, timeout_s=60)


async def test_lingering_stage_rolls_back_a_crash_without_repeating_held_records(
    settings: Settings, topics: TopicCatalog
) -> None:
    # Records held for the next transaction when an earlier one aborts must be read
    # again from the committed offset, once: every count appears exactly once, in order.
    keys_values = [(b"a", b"x")] * 5 + [(b"a", BOOM)] + [(b"a", b"x")] * 6 + [(b"b", b"x")]
    await produce(
        settings.kafka_bootstrap, [(topics.router_normalized, k, v) for k, v in keys_values]
    )
    base = _config(settings, topics, stateful=True)
    config = StageConfig(**{**vars(base), "linger_ms": 300, "max_batch_records": 4})
    runtime = StageRuntime(config, CountingProcessor(topics.alerts))

    await _run_until_consumed(settings, config, runtime)

    outputs = await read_to_end(settings.kafka_bootstrap, topics.alerts)
    assert [(r.key, r.value) for r in outputs] == [
        *[(b"a", str(n).encode()) for n in range(1, 12)],
        (b"b", b"1"),
    ]
    dead = await read_to_end(settings.kafka_bootstrap, topics.router_dlq)
    assert [d["source"] for d in _dead_letters(dead)] == [f"{topics.router_normalized}-0-5"]
    assert runtime.status().counters.aborts >= 1
