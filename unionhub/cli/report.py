"""``unionhub report weekly``: the weekly review (每周议) as HTML and PDF, from the case store.

It reads the case store the daemon keeps (read-only: the daemon may write
meanwhile), on the loop clock the daemon recorded there, with the working-day
calendar in force (the admin's overrides from Kafka when a broker answers,
the shipped one otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import structlog

from caseloop.calendar import WorkingDayCalendar
from caseloop.clocks import WorkingCalendar
from caseloop.loopclock import LoopClock
from core.errors import ConfigError, UnionhubError
from core.settings import Settings
from review.report.data import gather
from review.report.render import write
from review.report.week import Week
from review.store import open_case_store
from review.store.meta import recorded_clock
from router.calendars import CalendarFeed
from schemas.shenzhen import DISTRICT_BY_SLUG

log = structlog.get_logger(__name__)
CALENDAR_WAIT_S = 5.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` command group."""
    parser = subparsers.add_parser("report", help="the weekly review (每周议) as HTML and PDF")
    kinds = parser.add_subparsers(dest="kind", required=True)
    weekly = kinds.add_parser(
        "weekly",
        help="a week's figures, districts, categories, supervision list, risks",
        description="Write weekly-<week>.html and .pdf into --out from the case store.",
    )
    weekly.add_argument("--week", help="ISO week, e.g. 2026-W49 (default: this loop week)")
    weekly.add_argument("--district", help="one district's report (slug, e.g. nanshan)")
    weekly.add_argument("--out", type=Path, required=True, help="directory to write into")
    weekly.add_argument(
        "--satisfaction-floor",
        type=float,
        help="highlight districts whose 满意率 is below this (0..1; "
        "default UNIONHUB_REPORT_SATISFACTION_FLOOR)",
    )
    weekly.add_argument("--no-pdf", action="store_true", help="the HTML page only")
    weekly.set_defaults(handler=_weekly)


def _weekly(settings: Settings, args: argparse.Namespace) -> int:
    if args.district is not None and args.district not in DISTRICT_BY_SLUG:
        raise ConfigError("--district", f"{args.district[:40]!r} is not a district slug")
    floor = (
        settings.report_satisfaction_floor
        if args.satisfaction_floor is None
        else args.satisfaction_floor
    )
    if not 0 <= floor <= 1:
        raise ConfigError("--satisfaction-floor", "a share from 0 to 1, e.g. 0.8")
    started = time.monotonic()
    store = open_case_store(settings, read_only=True)
    try:
        clock = recorded_clock(store, LoopClock(settings.loop_speed, settings.loop_anchor))
        now = clock.now()
        week = Week.parse(args.week, now, clock) if args.week else Week.holding(now, now, clock)
        weekly = gather(
            store, week, _calendar(settings), district=args.district, satisfaction_floor=floor
        )
    finally:
        store.close()
    written = write(weekly, args.out, pdf=not args.no_pdf)
    print(f"weekly report {week.label}: {written.html}")
    if written.pdf is not None:
        print(f"weekly report {week.label}: {written.pdf}")
    print(f"written in {time.monotonic() - started:.1f} s")
    return 0


def _calendar(settings: Settings) -> WorkingCalendar:
    """The calendar in force; the shipped one when no broker answers soon."""
    feed = CalendarFeed(settings)

    async def refreshed() -> WorkingCalendar:
        await asyncio.wait_for(feed.refresh(), CALENDAR_WAIT_S)
        return feed.current()

    try:
        return asyncio.run(refreshed())
    except (TimeoutError, UnionhubError, OSError):
        log.warning("report: the calendar overrides were not read; the shipped calendar is used")
        return WorkingDayCalendar()
