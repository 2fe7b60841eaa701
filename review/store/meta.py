"""Facts the daemon records in the case store for readers in other processes.

The loop clock: the store's case times are loop times (``caseloop/loopclock.py``)
and its dispatch events' times wall times; a reader (``unionhub report``) maps
one to the other with the clock the daemon ran, not with whatever its own
environment says.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from caseloop.loopclock import LoopClock
from review.store.base import CaseStore

LOOP_CLOCK_META = "loop_clock"


def loop_clock_meta(clock: LoopClock) -> str:
    """The clock as the store records it."""
    anchor = clock.anchor.isoformat() if clock.anchor is not None else None
    return orjson.dumps({"speed": clock.speed, "anchor": anchor}).decode()


def recorded_clock(store: CaseStore, default: LoopClock) -> LoopClock:
    """The loop clock the store's writer ran, or ``default`` when none is recorded."""
    text = store.meta(LOOP_CLOCK_META)
    if text is None:
        return default
    raw = orjson.loads(text)
    anchor = datetime.fromisoformat(raw["anchor"]) if raw.get("anchor") else None
    return LoopClock(float(raw["speed"]), anchor)
