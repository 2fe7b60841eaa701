"""``unionhub stats``: the federation's figures of a week or a month, as a table.

Computed from ``cases.state`` (the case states alone, never logs) with the same
module the daemon's ``/stats`` and ``/metrics`` use.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

import orjson

from caseloop.figures import CITY, Figures, Ratio
from caseloop.loopclock import LoopClock
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.calendars import CalendarFeed
from schemas.shenzhen import DISTRICTS
from unionhub.cases.stats import figures_for, figures_json
from unionhub.cases.topicview import read_case_states

COLUMNS: tuple[tuple[str, str], ...] = (
    ("dispatched", "派发"),
    ("accept_rate", "签收率"),
    ("accept_on_time_rate", "按时签收率"),
    ("resolve_rate", "办结率"),
    ("resolve_on_time_rate", "按时办结率"),
    ("satisfaction_rate", "满意率"),
    ("repeat_rate", "重复诉求率"),
    ("overdue_now", "超期"),
    ("reopened", "重办"),
    ("returned", "退回"),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``stats`` command."""
    parser = subparsers.add_parser(
        "stats", help="the figures (签收率, 办结率, 按时办结率, 满意率...) per district"
    )
    parser.add_argument("--period", choices=["week", "month"], default="week")
    parser.add_argument("--at", help="a time in the period (ISO-8601 with offset; default now)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=_stats)


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    now = LoopClock(settings.loop_speed, settings.loop_anchor).now()
    at = datetime.fromisoformat(args.at) if args.at else now
    if at.tzinfo is None:
        print("unionhub stats: --at needs an offset, e.g. 2026-12-01T00:00:00+08:00")
        return 2

    async def gather() -> tuple[datetime, datetime, dict[str, Figures]]:
        feed = CalendarFeed(settings)
        await feed.refresh()
        states = await read_case_states(settings.kafka_bootstrap, TopicCatalog(settings.namespace))
        return figures_for(states.values(), args.period, at, now, feed.current())

    start, end, scopes = asyncio.run(gather())
    if args.json:
        body = {scope: figures_json(f) for scope, f in scopes.items()}
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return 0
    print(render(start, end, min(now, end), scopes))
    return 0


def render(start: datetime, end: datetime, at: datetime, scopes: dict[str, Figures]) -> str:
    """The figures as a terminal table, a row per district and one for the city."""
    head = f"{_period(start, end)}  (evaluated at {at.isoformat(timespec='minutes')})"
    names = ["district", *(label for _, label in COLUMNS)]
    rows = [names]
    for scope in [*(d.slug for d in DISTRICTS), CITY]:
        figures = scopes[scope]
        rows.append([scope, *(_cell(getattr(figures, name)) for name, _ in COLUMNS)])
    return "\n".join([head, *aligned(rows)])


def aligned(rows: list[list[str]]) -> list[str]:
    """``rows`` as terminal lines, each column padded to its widest cell (CJK counts two)."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)) for row in rows]


def _period(start: datetime, end: datetime) -> str:
    return f"{start.date().isoformat()} .. {end.date().isoformat()} (CST)"


def _cell(value: object) -> str:
    if isinstance(value, Ratio):
        if value.value is None:
            return "-"
        return f"{value.value:.1%} ({value.numerator}/{value.denominator})"
    return str(value)


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
