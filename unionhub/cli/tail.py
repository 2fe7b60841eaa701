"""``unionhub tail DISTRICT|TOPIC``: watch a district's queue, triage, alerts or any topic."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from unionhub.operators.tail import (
    ALERT_KINDS,
    CATEGORIES,
    EVENT_TYPES,
    FromBeginning,
    LastRecords,
    Since,
    StartPosition,
    TailOptions,
    parse_since,
    tail,
)
from unionhub.operators.targets import resolve_target


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``tail`` command."""
    parser = subparsers.add_parser(
        "tail",
        help="print a district's cases, triage, alerts or any topic, one line each",
        description=(
            "Read a topic without joining a consumer group (it never takes partitions "
            "from the router or a district's readers). Without --follow, stop at the end "
            "offsets taken at start."
        ),
    )
    parser.add_argument(
        "target",
        metavar="DISTRICT|TOPIC",
        help="nanshan, 南山区, 南山, triage, or a topic name such as alerts.risk",
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning", action="store_true", help="start at the oldest record kept"
    )
    start.add_argument("--since", metavar="WHEN", help="2h, 30m, 3d, or 2026-11-29T08:00+08:00")
    start.add_argument(
        "-n",
        "--lines",
        type=int,
        default=10,
        metavar="N",
        help="start at the last N records of each partition (default 10)",
    )
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new records")
    parser.add_argument("--json", action="store_true", help="print each raw value, one per line")
    parser.add_argument(
        "--category",
        action="append",
        choices=CATEGORIES,
        default=[],
        metavar="CATEGORY",
        help=f"keep only this category (repeatable): {', '.join(CATEGORIES)}",
    )
    parser.add_argument(
        "--event-type",
        action="append",
        choices=EVENT_TYPES + ALERT_KINDS,
        default=[],
        metavar="TYPE",
        help=(
            "keep only this event type or alert kind (repeatable): "
            + ", ".join(EVENT_TYPES + ALERT_KINDS)
        ),
    )
    parser.set_defaults(handler=_tail)


def _start(args: argparse.Namespace) -> StartPosition:
    if args.from_beginning:
        return FromBeginning()
    if args.since is not None:
        return Since(parse_since(args.since, datetime.now(UTC)))
    return LastRecords(max(args.lines, 0))


def _emit(line: str) -> None:
    print(line, flush=True)


def _tail(settings: Settings, args: argparse.Namespace) -> int:
    topic = resolve_target(args.target, TopicCatalog(settings.namespace))
    human = not args.json
    options = TailOptions(
        start=_start(args),
        follow=args.follow,
        output="human" if human else "json",
        categories=frozenset(args.category),
        event_types=frozenset(args.event_type),
        width=shutil.get_terminal_size().columns if human else None,
        color=human and sys.stdout.isatty(),
    )
    try:
        asyncio.run(
            tail(
                settings.kafka_bootstrap,
                topic,
                options,
                _emit,
                client_id=TopicCatalog(settings.namespace).client_id("tail"),
            )
        )
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # The reader (head, less) went away: stop quietly, as other Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
