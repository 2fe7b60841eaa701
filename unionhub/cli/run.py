"""``unionhub run``: the daemon, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from core.settings import Settings
from unionhub.daemon import Daemon


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(
        "run",
        help="the daemon: configured connectors, the router, admin API and metrics",
        description=(
            "Run every connector stored in the config topic and the router in this process; "
            "serve /healthz, /readyz, /metrics and the admin API on UNIONHUB_HTTP_PORT. "
            "Stops cleanly on SIGTERM/SIGINT."
        ),
    )
    parser.add_argument(
        "--no-router", action="store_true", help="run only the connectors (the router elsewhere)"
    )
    parser.set_defaults(handler=_run)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # The environment is read here, at the top, for ${env:NAME} secret references.
    environ = dict(os.environ)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        daemon = (
            Daemon(settings, environ, router_factory=None)
            if args.no_router
            else Daemon(settings, environ)
        )
        return await daemon.run(stop)

    return asyncio.run(main())
