"""``unionhub router run``: the router's stages in this process, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal

import structlog

from core.errors import UnionhubError
from core.settings import Settings
from router.app import RouterApp

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_S = 10.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``router`` command group."""
    parser = subparsers.add_parser("router", help="run the router (normalize, place, dispatch)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser(
        "run", help="run both router stages until SIGTERM/SIGINT (several processes may run)"
    ).set_defaults(handler=_run)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(run_until_signalled(RouterApp(settings)))


async def run_until_signalled(app: RouterApp, grace_s: float = SHUTDOWN_GRACE_S) -> int:
    """Run ``app`` until SIGTERM/SIGINT, then stop it cleanly within ``grace_s``.

    Returns 0 after a clean stop, 1 if the app failed (the error is logged) or
    did not stop in time (it is then cancelled, which still aborts its open
    transactions and closes its clients). A :class:`UnionhubError` (missing
    topics, broker unreachable at start) is raised for the CLI to print.
    """
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled.set)
    running = asyncio.create_task(app.run(), name="router-app")
    waiting = asyncio.create_task(signalled.wait(), name="router-signal")
    try:
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if signalled.is_set():
            log.info("stopping on signal")
            app.stop()
            try:
                await asyncio.wait_for(asyncio.shield(running), timeout=grace_s)
            except TimeoutError:
                log.warning("router did not stop in time; cancelling", grace_s=grace_s)
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                return 1
        error = running.exception()
        if isinstance(error, UnionhubError):
            raise error  # the CLI prints it as one line
        if error is not None:
            log.error("router failed", error=type(error).__name__, detail=str(error))
            return 1
        return 0
    finally:
        waiting.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
