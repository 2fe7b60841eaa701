"""``unionhub kafka up|down|status``: the project's local broker."""

from __future__ import annotations

import argparse
import asyncio

from core.settings import Settings
from devtools.broker import LocalBroker


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kafka`` command group."""
    parser = subparsers.add_parser("kafka", help="run the local single-node Kafka broker")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("up", help="fetch, format and start the broker (idempotent)").set_defaults(
        handler=_up
    )
    verbs.add_parser("down", help="stop the broker").set_defaults(handler=_down)
    verbs.add_parser("status", help="is the broker running and answering?").set_defaults(
        handler=_status
    )


def _up(settings: Settings, args: argparse.Namespace) -> int:
    broker = LocalBroker(settings)
    started = asyncio.run(broker.up())
    verb = "started" if started else "already running"
    print(f"kafka {verb} on {broker.bootstrap} (pid {broker.running_pid()}, log {broker.log_file})")
    return 0


def _down(settings: Settings, args: argparse.Namespace) -> int:
    broker = LocalBroker(settings)
    stopped = asyncio.run(broker.down())
    print(f"kafka on {broker.bootstrap} " + ("stopped" if stopped else "was not running"))
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    status = asyncio.run(LocalBroker(settings).status())
    state = "answering" if status.answering else "not answering"
    pid = f"pid {status.pid}" if status.pid else "no local process"
    print(f"kafka {status.bootstrap}: {state} ({pid}; log {status.log_file})")
    return 0 if status.answering else 3
