"""``unionhub status``: connectors, router and district queues at a glance (from Kafka)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict

import orjson

from core.settings import Settings
from unionhub.admin.overview import Overview, gather_overview


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``status`` command."""
    parser = subparsers.add_parser(
        "status", help="connectors (state, last poll, dead letters), router lag, queue depths"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=_status)


def _status(settings: Settings, args: argparse.Namespace) -> int:
    overview = asyncio.run(gather_overview(settings))
    if args.json:
        print(orjson.dumps(asdict(overview), option=orjson.OPT_INDENT_2).decode())
    else:
        print(render(overview))
    return 0


def render(overview: Overview) -> str:
    """The human-readable summary."""
    lines = ["CONNECTORS"]
    if not overview.connectors:
        lines.append("  (none; add one with `unionhub connectors add FILE`)")
    for c in overview.connectors:
        reason = f"  ({c['reason']})" if c["reason"] and c["state"] == "FAILED" else ""
        age = "-" if c["lag_s"] is None else f"{c['lag_s']}s ago"
        lines.append(
            f"  {c['name']:<28} {c['state']:<10} last poll {age:<12}"
            f" records {c['records']:<7} dead letters {c['dead_letters']}{reason}"
        )
    lag = overview.router.get("lag", {})
    lag_text = ", ".join(f"{k} {'-' if v is None else v}" for k, v in lag.items())
    size = overview.router.get("state_size")
    lines += [
        "ROUTER",
        f"  lag: {lag_text} (from {overview.router.get('lag_source')});"
        f" state size: {'-' if size is None else size}",
        "DAEMONS",
    ]
    lines += [
        f"  {d['worker_id']:<28}"
        f" {'ready' if d['ready'] else 'NOT READY' if d['fresh'] else 'GONE':<10}"
        f" seen {d['updated_at']}"
        for d in overview.daemons
    ] or ["  (none reported)"]
    lines.append("QUEUES (records kept)")
    lines += [f"  {slug:<12} {depth}" for slug, depth in overview.queues.items()]
    lines.append("DEAD LETTERS")
    lines += [f"  {topic:<12} {count}" for topic, count in overview.dead_letters.items()]
    return "\n".join(lines)
