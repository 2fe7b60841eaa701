"""``unionhub check --expected DIR/expected.json``: compare a run with a scenario's truth.

The dispatch part always runs. The case loop's part (``cases.state``,
``alerts.sla``, refused actions, the figures: :mod:`checker.loop`) runs when
the run has any message on the loop's topics, or always with ``--loop``
(which then fails a run without them); ``--no-loop`` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from checker import Expectations, check, read_observed
from checker.errors import ExpectationsError
from checker.loop import LoopOptions, LoopTime, check_loop
from checker.loop.reader import loop_topics_exist, read_loop_observed
from checker.observed import Observed
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` command."""
    parser = subparsers.add_parser(
        "check",
        help="compare dispatch, alert, dead-letter and case-loop topics with a scenario's truth",
        description=(
            "Read every committed message of dispatch.*, alerts.risk, intake.dlq and "
            "router.dlq (of UNIONHUB_NAMESPACE) up to the current end, compare them with "
            "the expected.json `unionhub simulate` wrote, print the figures; exit 1 "
            "unless nothing is lost or twice and every exact comparison is clean. When the "
            "run has case-loop messages (cases.actions.*, cases.state, alerts.sla), replay "
            "the loop independently and judge them too (loop clock: UNIONHUB_LOOP_SPEED, "
            "UNIONHUB_LOOP_ANCHOR)."
        ),
    )
    parser.add_argument(
        "--expected", type=Path, required=True, help="the expected.json of the scenario"
    )
    parser.add_argument(
        "--settled",
        action="store_true",
        help="the connectors first read after everything was released: demand the settled "
        "view's versions and event types exactly (default: a live run)",
    )
    loop = parser.add_mutually_exclusive_group()
    loop.add_argument(
        "--loop", action="store_true", help="require the case loop's part (fail without it)"
    )
    loop.add_argument("--no-loop", action="store_true", help="skip the case loop's part")
    parser.add_argument(
        "--at",
        type=_instant,
        help="evaluation time of the loop, loop time, ISO-8601 with offset (default: the "
        "latest time the run shows)",
    )
    parser.add_argument("--period-start", type=_instant, help="the figures' period start")
    parser.add_argument("--period-end", type=_instant, help="the figures' period end")
    parser.add_argument(
        "--figures",
        type=Path,
        help="JSON {scope: {figure: value}} of the router's figures (GET /stats) to judge "
        "(default: the figures computed from cases.state)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=5.0,
        help="wall seconds within which an SLA level must be raised (default 5)",
    )
    parser.add_argument(
        "--downtime",
        type=_window,
        action="append",
        default=[],
        metavar="START/END",
        help="a wall-time window when the router was down (repeatable)",
    )
    parser.set_defaults(handler=_check)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    expectations = Expectations.load(args.expected)
    options = _options(settings, args)  # bad loop arguments fail before reading anything
    observed, has_loop = asyncio.run(_read(settings, args))
    report = check(expectations, observed, live=not args.settled)
    print(report.format())
    if args.no_loop:
        print("case loop: skipped (--no-loop)")
        return 0 if report.ok else 1
    if not has_loop:
        if args.loop:
            print("case loop: required (--loop), but the run has no case-loop messages")
            return 1
        print("case loop: not checked (no case-loop messages)")
        return 0 if report.ok else 1
    loop_report = check_loop(observed, options)
    print("== case loop ==")
    print(loop_report.format())
    return 0 if report.ok and loop_report.ok else 1


async def _read(settings: Settings, args: argparse.Namespace) -> tuple[Observed, bool]:
    """The observed topics, and whether the run has case-loop messages."""
    bootstrap, namespace = settings.kafka_bootstrap, settings.namespace
    observed = await read_observed(bootstrap, namespace)
    if args.no_loop or not await loop_topics_exist(bootstrap, namespace):
        return observed, False
    observed = await read_loop_observed(bootstrap, namespace, observed)
    return observed, bool(observed.case_states or observed.actions or observed.sla_alerts)


def _options(settings: Settings, args: argparse.Namespace) -> LoopOptions:
    period = None
    if args.period_start is not None or args.period_end is not None:
        if args.period_start is None or args.period_end is None:
            raise ExpectationsError("--period-start and --period-end go together")
        period = (args.period_start, args.period_end)
    return LoopOptions(
        clock=LoopTime(settings.loop_speed, settings.loop_anchor),
        at=args.at,
        tolerance=timedelta(seconds=args.tolerance),
        downtime=tuple(args.downtime),
        period=period,
        figures=_figures(args.figures) if args.figures else None,
        namespace=settings.namespace,
    )


def _figures(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ExpectationsError(f"cannot read the figures {path}: {exc}") from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ExpectationsError(f"{path}: figures must be {{scope: {{figure: value}}}}")
    return doc


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text}") from exc
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs an offset (Z or +08:00): {text}")
    return at


def _window(text: str) -> tuple[datetime, datetime]:
    start, sep, end = text.partition("/")
    if not sep:
        raise argparse.ArgumentTypeError(f"a window is START/END: {text}")
    return _instant(start), _instant(end)
