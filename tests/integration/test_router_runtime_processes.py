"""Router processes killed and doubled while input flows: nothing lost, nothing duplicated.

Each test runs ``tests.integration.router_stage_main`` as real processes (the
two-stage test router: upper-case into ``router_normalized``, then count per
key into ``alerts``), feeds raw records while they run, and checks every
committed output against what one uninterrupted process gives.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.stages import dispatch_stage_config, normalize_stage_config
from schemas.channels import Channel
from tests.integration.router_stage_main import (
    Tail,
    end_offsets,
    expected_counts,
    group_state,
    kill_hard,
    produce,
    reap_spawned,
    spawn_worker,
    stop_gently,
    wait_committed,
)
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _clean_up(settings: Settings) -> AsyncIterator[None]:
    """Stray processes killed, before the ``settings`` fixture (a dependency, so torn down
    after this) deletes this test's topics."""
    yield
    reap_spawned()


_KEYS = [f"k{i}".encode() for i in range(7)]
_CHUNK = 10
_WINDOW = 40  # at most this many fed records not yet counted (end to end): input keeps flowing


def _inputs(topics: TopicCatalog, total: int) -> list[tuple[str, bytes, bytes]]:
    channels = list(Channel)
    return [
        (topics.raw(channels[i % len(channels)]), _KEYS[i % len(_KEYS)], f"m{i}".encode())
        for i in range(total)
    ]


def _worker_committed(tail: Tail, worker: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def committed_enough() -> bool:
        mine = [r for r in tail.records if dict(r.headers)["worker"] == worker.encode()]
        return len(mine) >= count

    committed_enough.__name__ = f"{worker}_committed_{count}"
    return committed_enough


async def _feed(settings: Settings, inputs: list[tuple[str, bytes, bytes]], seen: Tail) -> None:
    """Produce ``inputs`` chunk by chunk, never more than a window ahead of ``seen``."""
    for start in range(0, len(inputs), _CHUNK):
        await eventually(seen.at_least(start - _WINDOW), timeout_s=90)
        await produce(settings.kafka_bootstrap, inputs[start : start + _CHUNK])


async def _wait_all_processed(settings: Settings, topics: TopicCatalog, total: int) -> None:
    """Wait until both stages have committed every input (so no output can follow)."""
    bootstrap = settings.kafka_bootstrap
    raw_ends = await end_offsets(bootstrap, *topics.raw_topics())
    await wait_committed(bootstrap, normalize_stage_config(settings).group_id, raw_ends)
    normalized = await read_to_end(bootstrap, topics.router_normalized)
    assert len(normalized) == total
    last = TopicPartition(topics.router_normalized, 0)
    target = {last: max(r.offset for r in normalized) + 1}
    await wait_committed(bootstrap, dispatch_stage_config(settings).group_id, target)


async def _check_exactly_once(
    settings: Settings, topics: TopicCatalog, inputs: list[tuple[str, bytes, bytes]]
) -> list[bytes]:
    """Assert outputs are those of one uninterrupted run; return the worker of each count."""
    normalized = await read_to_end(settings.kafka_bootstrap, topics.router_normalized)
    assert sorted(r.value for r in normalized) == sorted(v.upper() for _, _, v in inputs)
    counted = await read_to_end(settings.kafka_bootstrap, topics.alerts)
    assert [(r.key, r.value) for r in counted] == expected_counts(r.key for r in normalized)
    dead = await read_to_end(settings.kafka_bootstrap, topics.router_dlq)
    assert dead == []
    return [dict(r.headers)["worker"] for r in counted]


async def _stop(process: subprocess.Popen[bytes]) -> int:
    return await asyncio.to_thread(stop_gently, process)


async def test_sigkilled_router_loses_and_duplicates_nothing(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    rng = random.Random(settings.namespace)  # "random" moments, reproducible per namespace
    inputs = _inputs(topics, 400)
    bootstrap = settings.kafka_bootstrap
    async with Tail(bootstrap, topics.alerts) as counted:
        feeder = asyncio.create_task(_feed(settings, inputs, counted))
        process = spawn_worker(settings, "w0", tmp_path)
        try:
            for kill in range(1, 4):
                # Kill at a random point of this process's own work.
                await eventually(
                    _worker_committed(counted, f"w{kill - 1}", rng.randint(5, 40)), timeout_s=90
                )
                assert not feeder.done(), "input must still be flowing when the router dies"
                await asyncio.to_thread(kill_hard, process)
                process = spawn_worker(settings, f"w{kill}", tmp_path)
            await feeder
            await _wait_all_processed(settings, topics, len(inputs))
        finally:
            feeder.cancel()
            code = await _stop(process)
    assert code == 0
    workers = await _check_exactly_once(settings, topics, inputs)
    assert set(workers) == {b"w0", b"w1", b"w2", b"w3"}, "every process committed some work"


@dataclass
class _Pair:
    """Two workers in the dispatch group with input flowing: who owns stage 2, who stands by."""

    processes: dict[str, subprocess.Popen[bytes]]
    counted: Tail
    feeder: asyncio.Task[None]
    owner: str
    standby: str
    joined: Callable[[], Awaitable[bool]]
    exit_codes: list[int] = field(default_factory=list)  # of the processes left, once stopped


@asynccontextmanager
async def _two_workers_feeding(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, inputs: list[tuple[str, bytes, bytes]]
) -> AsyncIterator[_Pair]:
    """Workers a and b joined, ``inputs`` being fed, 30 results counted; stopped on exit
    (woken first, should one be frozen), their exit codes in ``exit_codes``."""
    bootstrap = settings.kafka_bootstrap
    dispatch_group = dispatch_stage_config(settings).group_id
    processes = {name: spawn_worker(settings, name, tmp_path) for name in ("a", "b")}

    async def both_joined() -> bool:
        return await group_state(bootstrap, dispatch_group) == ("Stable", 2)

    codes: list[int] = []
    try:
        async with Tail(bootstrap, topics.alerts) as counted:
            await eventually(both_joined, timeout_s=60)
            feeder = asyncio.create_task(_feed(settings, inputs, counted))
            try:
                await eventually(counted.at_least(30), timeout_s=90)
                owner = dict(counted.records[-1].headers)["worker"].decode()
                standby = "b" if owner == "a" else "a"
                yield _Pair(processes, counted, feeder, owner, standby, both_joined, codes)
            finally:
                feeder.cancel()
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGCONT)
        codes += [await _stop(p) for p in processes.values()]


async def test_two_router_processes_give_the_results_of_one_and_a_standby_takes_over(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    inputs = _inputs(topics, 240)
    async with _two_workers_feeding(settings, topics, tmp_path, inputs) as pair:
        killed_after = pair.counted.count()
        assert not pair.feeder.done(), "input must still be flowing when the owner dies"
        await asyncio.to_thread(kill_hard, pair.processes.pop(pair.owner))
        await pair.feeder
        await _wait_all_processed(settings, topics, len(inputs))
    assert pair.exit_codes == [0]
    workers = await _check_exactly_once(settings, topics, inputs)
    assert workers[-1] == pair.standby.encode()
    assert pair.owner.encode() not in workers[workers.index(pair.standby.encode(), killed_after) :]


async def test_a_frozen_owner_is_fenced_when_it_wakes_up_and_duplicates_nothing(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    """The zombie case: the owner stops answering, a standby takes over, the owner resumes."""
    inputs = _inputs(topics, 240)
    async with _two_workers_feeding(settings, topics, tmp_path, inputs) as pair:
        assert not pair.feeder.done(), "input must still be flowing when the owner freezes"
        pair.processes[pair.owner].send_signal(signal.SIGSTOP)
        frozen_at = pair.counted.count()

        async def standby_took_over() -> bool:
            workers = [dict(r.headers)["worker"] for r in pair.counted.records[frozen_at:]]
            return pair.standby.encode() in workers

        await eventually(standby_took_over, timeout_s=60)
        pair.processes[pair.owner].send_signal(signal.SIGCONT)
        await eventually(pair.joined, timeout_s=60)
        await pair.feeder
        await _wait_all_processed(settings, topics, len(inputs))
    assert pair.exit_codes == [0, 0]
    await _check_exactly_once(settings, topics, inputs)


async def test_sigterm_stops_the_router_within_grace_and_leaves_both_groups(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> None:
    inputs = _inputs(topics, 20)
    await produce(settings.kafka_bootstrap, inputs)
    process = spawn_worker(settings, "solo", tmp_path)
    try:
        async with Tail(settings.kafka_bootstrap, topics.alerts) as counted:
            await eventually(counted.at_least(len(inputs)), timeout_s=60)
    finally:
        code = await asyncio.to_thread(stop_gently, process, 10)  # the CLI's promise
    assert code == 0
    for config in (normalize_stage_config(settings), dispatch_stage_config(settings)):
        assert await group_state(settings.kafka_bootstrap, config.group_id) == ("Empty", 0)
    await _check_exactly_once(settings, topics, inputs)
