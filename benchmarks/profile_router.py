"""Profile the router's two processors in process (no Kafka), with pyinstrument.

    .venv/bin/python -m benchmarks.profile_router [--records 20000] [--out PATH]

Prints each stage's records per second without the profiler, then writes
pyinstrument's call tree of a profiled pass. The dispatch stage commits as the
runtime does (changes taken and the local store written every
``COMMIT_EVERY`` records), so the sqlite store's cost is in the profile.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.data import RawRecord, scenario_records
from benchmarks.kafka import REPO_ROOT
from core.kafka.topics import TopicCatalog
from core.logging import configure_logging
from core.settings import Settings
from router.processor import InputRecord, Output
from router.stages import build_dispatch_processor, build_normalize_processor

COMMIT_EVERY = 2000  # the router's transactions (router.stages.MAX_BATCH_RECORDS)


def fresh_settings() -> Settings:
    """Settings with an empty state directory of their own: a pass on the state of another
    would find every report seen already."""
    state = Path(tempfile.mkdtemp(prefix="profile-router-"))
    return Settings(namespace="profile.", log_format="json", log_level="warning", state_dir=state)


def one_pass(settings: Settings, records: list[RawRecord]) -> tuple[float, float]:
    """(normalize records/s, dispatch records/s) of one pass over ``records``."""
    catalog = TopicCatalog(settings.namespace)
    normalize = build_normalize_processor(settings)
    dispatch = build_dispatch_processor(settings)
    inputs = [
        InputRecord(catalog.raw(r.channel), 0, n, r.key, r.value, r.headers, 0)
        for n, r in enumerate(records)
    ]
    started = time.perf_counter()
    normalized: list[Output] = [o for record in inputs for o in normalize.process(record)]
    middle = time.perf_counter()
    for n, o in enumerate(normalized):
        dispatch.process(InputRecord(o.topic, 0, n, o.key, o.value, o.headers, 0))
        if n % COMMIT_EVERY == COMMIT_EVERY - 1:
            changes = dispatch.take_changes()  # as the runtime does once per transaction
            dispatch.committed({0: n + 1} if changes else {})
    dispatch.take_changes()
    dispatch.committed({0: len(normalized)})
    ended = time.perf_counter()
    return len(inputs) / (middle - started), len(normalized) / (ended - middle)


def main(argv: list[str] | None = None) -> int:
    """Time both stages, then profile them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".cache" / "router-profile.txt")
    args = parser.parse_args(argv)
    configure_logging(fresh_settings())
    records = scenario_records(args.records)
    normalize_rate, dispatch_rate = one_pass(fresh_settings(), records)
    print(f"normalize: {normalize_rate:,.0f} records/s, dispatch: {dispatch_rate:,.0f} records/s")
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    one_pass(fresh_settings(), records)
    profiler.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(profiler.output_text(unicode=False, color=False))
    print(f"profile written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
