"""``unionhub check --expected DIR/expected.json``: compare a run with a scenario's truth."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from checker import Expectations, check, read_observed
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` command."""
    parser = subparsers.add_parser(
        "check",
        help="compare dispatch, alert and dead-letter topics with a scenario's ground truth",
        description=(
            "Read every committed message of dispatch.*, alerts.risk, intake.dlq and "
            "router.dlq (of UNIONHUB_NAMESPACE) up to the current end, compare them with "
            "the expected.json `unionhub simulate` wrote, print the figures; exit 1 "
            "unless nothing is lost or twice and every exact comparison is clean."
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
    parser.set_defaults(handler=_check)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    expectations = Expectations.load(args.expected)
    observed = asyncio.run(read_observed(settings.kafka_bootstrap, settings.namespace))
    report = check(expectations, observed, live=not args.settled)
    print(report.format())
    return 0 if report.ok else 1
