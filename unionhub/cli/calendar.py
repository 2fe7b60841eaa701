"""``unionhub calendar load|show|check``: the working-day calendar the case loop counts in.

``load FILE`` checks a calendar file (years the shipped calendar does not know
yet, or corrections; format in :mod:`caseloop.calendar_overrides`) and writes
each year to the compacted ``unionhub.calendar`` topic: running routers and
daemons take it within seconds. ``check FILE`` only checks; ``show`` says
which years are known and where from.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from caseloop.calendar import SHIPPED_YEARS
from caseloop.calendar_overrides import CalendarOverrides, parse_overrides
from core.kafka.clients import idempotent_producer
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``calendar`` command group."""
    parser = subparsers.add_parser("calendar", help="working-day calendar overrides (调休)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    load = verbs.add_parser("load", help="check a calendar file and load it")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_load)
    check = verbs.add_parser("check", help="check a calendar file, load nothing")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check)
    verbs.add_parser("show", help="which years are known").set_defaults(handler=_show)


def _read(path: Path) -> CalendarOverrides:
    return parse_overrides(path.read_text(encoding="utf-8"))


def _check(settings: Settings, args: argparse.Namespace) -> int:
    overrides = _read(args.file)
    print(f"{args.file}: valid; years {', '.join(str(y) for y in sorted(overrides.years))}")
    return 0


def _load(settings: Settings, args: argparse.Namespace) -> int:
    overrides = _read(args.file)
    catalog = TopicCatalog(settings.namespace)

    async def run() -> None:
        producer = idempotent_producer(
            settings.kafka_bootstrap, client_id=catalog.client_id("calendar")
        )
        await producer.start()
        try:
            for year, schedule in sorted(overrides.years.items()):
                await producer.send_and_wait(
                    catalog.calendar,
                    value=schedule.model_dump_json().encode(),
                    key=str(year).encode(),
                )
        finally:
            await producer.stop()

    asyncio.run(run())
    print(f"loaded years {', '.join(str(y) for y in sorted(overrides.years))}")
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    catalog = TopicCatalog(settings.namespace)
    records = asyncio.run(read_to_end(settings.kafka_bootstrap, catalog.calendar))
    loaded = sorted(
        {(r.key or b"").decode() for r in records if r.value is not None}
        - {(r.key or b"").decode() for r in records if r.value is None}
    )
    print(f"shipped (chinesecalendar): {SHIPPED_YEARS.start}-{SHIPPED_YEARS.stop - 1}")
    print(f"loaded: {', '.join(loaded) or 'none'}")
    print("other years: Monday to Friday are working days (the daemon warns)")
    return 0
