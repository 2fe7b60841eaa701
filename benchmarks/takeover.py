"""Takeover: the dispatch stage's owner SIGKILLed under load, until another process dispatches.

One normalize process and two dispatch-stage processes (``UNIONHUB_ROUTER_STAGES``,
each with its own state directory) run against a fresh namespace; a writer offers
``rate`` records/s as in the latency run. ``router.normalized`` has one
partition, so one dispatch process owns it (its log says so: ``partitions
assigned``) and the other waits in the group with no partition and no state.
After ``warm_s`` the owner is SIGKILLed; the figure is the time from the kill
to the first dispatch event readable of a record written after the kill: the
group's session timeout (a killed member sends no LeaveGroup), the
rebalance, the new owner's restore of the changelog, its first transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarks.data import RawRecord
from benchmarks.kafka import REPO_ROOT, delete_namespace, fresh_catalog
from benchmarks.latency import TICK_S, read_events, write_chunk
from benchmarks.pipeline import LOG_DIR, spawn, stage_env, stop, unionhub_argv
from core.kafka.clients import transactional_producer

SESSION_TIMEOUT_MS = 6000  # the broker's minimum (group.min.session.timeout.ms)
OWNER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class TakeoverResult:
    """Seconds from the owner's SIGKILL to the first event of a record written after it."""

    rate: int
    warm_s: float
    takeover_s: float
    events_before_kill: int
    session_timeout_ms: int = SESSION_TIMEOUT_MS


async def takeover(
    bootstrap: str, records: list[RawRecord], rate: int = 200, warm_s: float = 20.0
) -> TakeoverResult:
    """Run the two dispatch processes under ``rate``/s, kill the owner after ``warm_s``."""
    catalog = await fresh_catalog(bootstrap, "t")
    env = stage_env(bootstrap, catalog) | {
        "UNIONHUB_ROUTER_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS)
    }
    names = [f"{catalog.namespace}takeover-{role}" for role in ("normalize", "d0", "d1")]
    stages = ["normalize", "dispatch", "dispatch"]
    children = []
    for argv, name, stage in zip(unionhub_argv(3), names, stages, strict=True):
        state = REPO_ROOT / ".cache" / "bench-state" / name
        children.append(
            spawn(
                argv,
                env | {"UNIONHUB_ROUTER_STAGES": stage, "UNIONHUB_STATE_DIR": str(state)},
                name,
            )
        )
    sent_at: dict[tuple[str, str, str], float] = {}
    seen_at: dict[tuple[str, str, str], float] = {}
    reader = asyncio.create_task(read_events(bootstrap, catalog, seen_at, {}))
    producer = transactional_producer(bootstrap, f"{catalog.namespace}takeover-writer")
    await producer.start()
    try:
        per_tick = max(int(rate * TICK_S), 1)
        loop = asyncio.get_running_loop()
        start, killed_at, owner, events_before = loop.time(), 0.0, None, 0
        for n, offset in enumerate(range(0, len(records), per_tick)):
            await asyncio.sleep(max(start + n * TICK_S - loop.time(), 0))  # the offered pace
            chunk = records[offset : offset + per_tick]
            await write_chunk(producer, catalog, chunk, [r.ref for r in chunk], sent_at)
            if owner is None and loop.time() - start >= warm_s and seen_at:
                owner = _owner(names[1:])
                if owner is not None:
                    events_before = len(seen_at)
                    os.kill(children[1 + owner].pid, signal.SIGKILL)
                    killed_at = time.perf_counter()
            first = _first_after(sent_at, seen_at, killed_at) if owner is not None else None
            if first is not None:
                break
            if loop.time() - start > warm_s + OWNER_TIMEOUT_S:
                raise RuntimeError("takeover: no owner found or no event after the kill")
        else:
            raise RuntimeError("takeover: ran out of records before the new owner dispatched")
    finally:
        await producer.stop()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.to_thread(stop, children)
        await delete_namespace(bootstrap, catalog)
    return TakeoverResult(rate, warm_s, first - killed_at, events_before)


def _first_after(
    sent_at: dict[tuple[str, str, str], float],
    seen_at: dict[tuple[str, str, str], float],
    killed_at: float,
) -> float | None:
    """When the first event of a record sent after ``killed_at`` became readable."""
    after = [seen for ref, seen in seen_at.items() if sent_at.get(ref, 0.0) > killed_at]
    return min(after) if after else None


def _owner(names: list[str]) -> int | None:
    """Which dispatch process holds ``router.normalized`` now, by its last assignment log."""
    for index, name in enumerate(names):
        last: list[str] | None = None
        for line in Path(LOG_DIR / f"{name}.log").read_bytes().splitlines():
            if b"partitions assigned" not in line:
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            last = list(entry.get("partitions") or [])
        if last:
            return index
    return None
