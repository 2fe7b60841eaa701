"""``RouterApp`` (both stages in one process) and ``unionhub router run``."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.app import GC_THRESHOLDS
from router.stages import dispatch_stage_config, normalize_stage_config
from tests.integration.router_stage_main import (
    Tail,
    group_state,
    harness_app,
    produce,
    reap_spawned,
    spawn_module,
    stop_gently,
)
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _clean_up(settings: Settings) -> AsyncIterator[None]:
    """Stray processes killed, before the ``settings`` fixture (a dependency, so torn down
    after this) deletes this test's topics."""
    yield
    reap_spawned()


async def test_router_app_runs_both_stages_and_reports_readiness_and_counters(
    settings: Settings, topics: TopicCatalog
) -> None:
    keys = [b"a", b"b", b"a", b"c", b"a"]
    await produce(
        settings.kafka_bootstrap,
        [(topics.raw("petition_window"), key, f"m{i}".encode()) for i, key in enumerate(keys)],
    )
    app = harness_app(settings, "in-process")
    assert not app.status().ready
    task = asyncio.create_task(app.run())
    try:
        async with Tail(settings.kafka_bootstrap, topics.alerts) as counted:
            await eventually(counted.at_least(len(keys)), timeout_s=60)

        async def settled() -> bool:
            status = app.status()
            return status.ready and all(s.lag == 0 for s in status.stages)

        await eventually(settled, timeout_s=30)
        status = app.status()
    finally:
        app.stop()
        await task
    normalize, dispatch = status.stages
    assert (normalize.stage, normalize.role) == ("normalize", "active")
    assert (dispatch.stage, dispatch.role) == ("dispatch", "active")
    # 5 raw topics x 3 partitions, and (the case loop) 12 action topics x 1.
    assert len(normalize.owned) == 15 + 12
    assert dispatch.owned == (f"{topics.router_normalized}-0",)
    assert normalize.counters.records_in == normalize.counters.records_out == len(keys)
    assert dispatch.counters.records_in == dispatch.counters.records_out == len(keys)
    assert dispatch.state_size == 3
    assert normalize.state_size is None
    assert not app.status().ready  # stopped
    assert normalize_stage_config(settings).group_id == (
        f"{settings.namespace}unionhub.router.normalize"
    )
    assert dispatch_stage_config(settings).group_id == (
        f"{settings.namespace}unionhub.router.dispatch"
    )


async def test_unionhub_router_run_with_the_real_stages_dead_letters_garbage_and_stops_on_sigterm(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    await produce(settings.kafka_bootstrap, [(topics.raw("citizen_app"), b"x-1", b"not json")])
    log_path = tmp_path / "router.log"
    process = spawn_module(settings, ["unionhub", "router", "run"], log_path)
    try:
        async with Tail(settings.kafka_bootstrap, topics.router_dlq) as dead:
            await eventually(dead.at_least(1), timeout_s=60)
        for config in (normalize_stage_config(settings), dispatch_stage_config(settings)):
            name = config.group_id

            async def joined(group: str = name) -> bool:
                return await group_state(settings.kafka_bootstrap, group) == ("Stable", 1)

            await eventually(joined, timeout_s=60)
    finally:
        code = await asyncio.to_thread(stop_gently, process, 10)  # the CLI's promise
    assert code == 0, log_path.read_text()
    letters = await read_to_end(settings.kafka_bootstrap, topics.router_dlq)
    assert len(letters) == 1
    letter = orjson.loads(letters[0].value)
    assert (letter["stage"], letter["channel"]) == ("router", "citizen_app")
    assert letter["raw"] == "not json"
    for config in (normalize_stage_config(settings), dispatch_stage_config(settings)):
        assert await group_state(settings.kafka_bootstrap, config.group_id) == ("Empty", 0)


async def test_router_stages_split_over_two_apps_gives_each_one_stage(
    settings: Settings, topics: TopicCatalog
) -> None:
    keys = [b"a", b"b", b"a", b"c"]
    await produce(
        settings.kafka_bootstrap,
        [(topics.raw("hotline_12351"), key, f"m{i}".encode()) for i, key in enumerate(keys)],
    )
    normalize_app = harness_app(settings.model_copy(update={"router_stages": "normalize"}), "n")
    dispatch_app = harness_app(settings.model_copy(update={"router_stages": "dispatch"}), "d")
    tasks = [asyncio.create_task(app.run()) for app in (normalize_app, dispatch_app)]
    try:
        async with Tail(settings.kafka_bootstrap, topics.alerts) as counted:
            await eventually(counted.at_least(len(keys)), timeout_s=60)
        (normalize,) = normalize_app.status().stages
        (dispatch,) = dispatch_app.status().stages
    finally:
        for app in (normalize_app, dispatch_app):
            app.stop()
        await asyncio.gather(*tasks)
    assert normalize.stage == "normalize"
    # 5 raw topics x 3 partitions, and (the case loop) 12 action topics x 1.
    assert len(normalize.owned) == 15 + 12
    assert dispatch.stage == "dispatch"
    assert dispatch.owned == (f"{topics.router_normalized}-0",)
    assert gc.get_threshold() == GC_THRESHOLDS  # a router process collects less often
