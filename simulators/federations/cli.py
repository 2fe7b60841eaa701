"""``unionhub simulate federations``: the simulated federations against a running daemon.

Prints a line per action applied or refused and, every ``--summary-every``
seconds, the loop time and how many cases stand where; on SIGUSR1, what every
case worker is at; runs until Ctrl-C / SIGTERM. The loop clock is the daemon's:
``UNIONHUB_LOOP_SPEED`` and ``UNIONHUB_LOOP_ANCHOR`` must be the same in both
processes.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import datetime
from pathlib import Path

from caseloop.calendar import CST, WorkingDayCalendar
from core.settings import Settings
from schemas.caseloop import CaseStatus
from simulators.federations.ledger import LedgerEntry, Outcome
from simulators.federations.runner import (
    FederationOptions,
    Federations,
    load_tokens,
    run_federations,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``federations`` under ``simulate``."""
    parser = subparsers.add_parser(
        "federations",
        help="simulated district federations and city desk acting through the case API",
    )
    parser.add_argument(
        "--daemon", required=True, help="the daemon's URL, e.g. http://127.0.0.1:8083"
    )
    parser.add_argument(
        "--tokens", type=Path, required=True, help="directory of <actor>.token files"
    )
    parser.add_argument("--seed", type=int, default=1, help="behaviour seed (default 1)")
    parser.add_argument("--ledger", type=Path, help="append every attempt to this JSON-lines file")
    parser.add_argument(
        "--summary-every", type=float, default=20.0, help="seconds between summaries (0: none)"
    )
    parser.set_defaults(handler=_federations)


def _federations(settings: Settings, args: argparse.Namespace) -> int:
    tokens = load_tokens(args.tokens)
    if not tokens:
        print(f"unionhub simulate federations: no <actor>.token file in {args.tokens}")
        return 2
    asyncio.run(_serve(settings, args, tokens))
    return 0


async def _serve(settings: Settings, args: argparse.Namespace, tokens: dict[str, str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The shipped calendar: the federations only choose when to act by it; the daemon applies
    # the rules with the calendar in force (the simulators import nothing of the router).
    calendar = WorkingDayCalendar()
    options = FederationOptions(
        seed=args.seed,
        daemon_url=args.daemon,
        tokens=tokens,
        bootstrap=settings.kafka_bootstrap,
        namespace=settings.namespace,
        speed=settings.loop_speed,
        anchor=settings.loop_anchor,
        ledger_path=args.ledger,
        calendar=calendar,
        echo=_echo,
    )
    async with run_federations(options) as feds:
        loop.add_signal_handler(signal.SIGUSR1, lambda: print(doing(feds), flush=True))
        print(
            f"federations of {', '.join(sorted(tokens))} acting on {args.daemon} "
            f"(seed {args.seed}, loop speed {settings.loop_speed:g}); ready",
            flush=True,
        )
        while not stop.is_set():
            every = args.summary_every if args.summary_every > 0 else None
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                print(summary(feds, calendar), flush=True)
    print("federations stopped", flush=True)


def doing(feds: Federations) -> str:
    """What every worker is at, a line each (``kill -USR1`` the process to see it)."""
    lines = [
        f"{f.desk.actor:<9} {case_id} {what}"
        for f in feds.federations
        for case_id, what in sorted(f.desk.doing.items())
    ]
    return "\n".join([f"{len(lines)} cases in hand:", *lines])


def loop_label(at: datetime) -> str:
    """A loop time as a terminal shows it: CST date, weekday and minute."""
    return at.astimezone(CST).strftime("%Y-%m-%d %a %H:%M CST")


def summary(feds: Federations, calendar: WorkingDayCalendar) -> str:
    """One line: the loop time, the cases seen by status, the actions applied and refused."""
    now = feds.clock.now()
    day = "working day" if calendar.is_working_day(now) else "day off"
    counts = feds.statuses()
    by_status = ", ".join(f"{s.value} {counts[s.value]}" for s in CaseStatus if counts[s.value])
    entries = feds.ledger()
    applied = sum(e.outcome is Outcome.APPLIED for e in entries)
    refused = [e for e in entries if e.outcome in (Outcome.REFUSED, Outcome.INVALID)]
    expected = sum(e.expected for e in refused)
    return (
        f"[loop {loop_label(now)}, {day}] {sum(counts.values())} cases: {by_status or 'none yet'}"
        f" | actions applied {applied}, refused {len(refused)} ({expected} expected)"
    )


def _echo(entry: LedgerEntry) -> None:
    if entry.outcome in (Outcome.PENDING, Outcome.RETRY):
        return
    at = loop_label(datetime.fromisoformat(entry.at))
    if entry.outcome is Outcome.APPLIED:
        what = f"{entry.actor:<9} {entry.action:<8} {entry.case_id}"
        print(f"[loop {at}] {what} -> {entry.case_status}", flush=True)
    else:
        note = "expected: the case moved on" if entry.expected else "UNEXPECTED"
        print(
            f"[loop {at}] {entry.actor:<9} {entry.action:<8} {entry.case_id} refused "
            f"{entry.status} ({entry.reason}; {note})",
            flush=True,
        )
