"""Start the simulated federations: ``async with run_federations(options) as feds``.

One :class:`~simulators.federations.federation.Federation` per actor that has a
token in ``options.tokens`` (district slugs and ``city``), sharing one HTTP
session and one :class:`~simulators.federations.ledger.Ledger`; actions are
timed in loop time with the daemon's speed and anchor
(:class:`caseloop.loopclock.LoopClock`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from caseloop.calendar import CST, WorkingDayCalendar
from caseloop.clocks import WorkingCalendar
from caseloop.loopclock import LoopClock
from core.kafka.topics import TopicCatalog
from schemas.caseloop import CITY_DESK, CaseState, is_actor
from simulators.federations.casework import Desk, relook_interval
from simulators.federations.client import CaseClient
from simulators.federations.federation import Federation
from simulators.federations.ledger import Ledger, LedgerEntry
from simulators.federations.mix import MIX, Mix

STAFF_PER_FEDERATION = 4  # API calls in flight at once per actor


@dataclass(frozen=True)
class FederationOptions:
    """Who acts, against which daemon and broker, on which loop clock, with which seed.

    ``tokens`` maps an actor (a district slug or ``city``) to its bearer token;
    only those actors run. ``speed`` and ``anchor`` must be the daemon's
    ``UNIONHUB_LOOP_SPEED`` and ``UNIONHUB_LOOP_ANCHOR``. ``ledger_path``, if
    set, gets every attempt as a JSON line; ``echo`` is called with each.
    """

    seed: int
    daemon_url: str
    tokens: Mapping[str, str]
    bootstrap: str
    namespace: str = ""
    speed: float = 1.0
    anchor: datetime | None = None
    ledger_path: Path | None = None
    calendar: WorkingCalendar | None = None  # default: the shipped working-day calendar
    mix: Mix = MIX
    echo: Callable[[LedgerEntry], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(actor for actor in self.tokens if not is_actor(actor))
        if unknown:
            raise ValueError(f"tokens: {unknown[0]!r} is neither a district slug nor 'city'")


class Federations:
    """The running federations: their ledger and what they last saw of their cases."""

    def __init__(self, federations: list[Federation], ledger: Ledger, clock: LoopClock) -> None:
        self.federations = federations
        self.clock = clock
        self._ledger = ledger

    def ledger(self) -> list[LedgerEntry]:
        """Every action attempt so far (see :class:`~simulators.federations.ledger.Ledger`)."""
        return self._ledger.entries()

    @property
    def log(self) -> Ledger:
        """The ledger itself (applied ids, refusals)."""
        return self._ledger

    def states(self) -> dict[str, CaseState]:
        """The newest state any federation has seen of each case."""
        newest: dict[str, CaseState] = {}
        for federation in self.federations:
            for case_id, state in federation.desk.seen.items():
                if case_id not in newest or newest[case_id].version < state.version:
                    newest[case_id] = state
        return newest

    def statuses(self) -> Counter[str]:
        """How many of the cases seen are in each status."""
        return Counter(state.status.value for state in self.states().values())

    def holding(self) -> int:
        """Cases with a worker right now, all federations together."""
        return sum(f.holding for f in self.federations)


@asynccontextmanager
async def run_federations(options: FederationOptions) -> AsyncIterator[Federations]:
    """Run a federation per actor of ``options.tokens`` until the block exits (the process has
    configured its Kafka clients, ``core.kafka.clients.configure_clients``, as every one does)."""
    clock = LoopClock(options.speed, options.anchor)
    calendar = options.calendar or WorkingDayCalendar()
    catalog = TopicCatalog(options.namespace)
    ledger = Ledger(options.ledger_path, options.echo)
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        federations = []
        for actor, token in sorted(options.tokens.items()):
            desk = Desk(
                actor=actor,
                seed=options.seed,
                client=CaseClient(session, options.daemon_url, token),
                ledger=ledger,
                clock=clock,
                calendar=calendar,
                seats=asyncio.Semaphore(STAFF_PER_FEDERATION),
                relook_s=relook_interval(options.speed),
                mix=options.mix,
            )
            topic = catalog.triage if actor == CITY_DESK else catalog.dispatch(actor)
            federations.append(Federation(desk, options.bootstrap, topic, options.namespace))
        tasks = [
            asyncio.create_task(f.run(stop), name=f"federation-{f.desk.actor}") for f in federations
        ]
        try:
            yield Federations(federations, ledger, clock)
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result


def anchor_for(loop_at: datetime, speed: float, wall_at: datetime) -> datetime:
    """The ``UNIONHUB_LOOP_ANCHOR`` with which the loop reads ``loop_at`` at wall time ``wall_at``.

    ``LoopClock`` maps ``wall`` to ``anchor + (wall - anchor) * speed``; solving that for the
    anchor lets a test or the demo start the loop on a chosen day (the first of a month, a
    Monday) while it still runs ``speed`` times faster from then on.
    """
    if speed == 1:
        raise ValueError("speed: at speed 1 loop time is wall time, there is no anchor to choose")
    return wall_at - (loop_at - wall_at) / (speed - 1)


def monday_anchor(speed: float, wall_at: datetime | None = None) -> datetime:
    """The anchor with which the loop, from ``wall_at`` (default now), reads the coming Monday
    00:00 CST: a demo's loop starts on a working week's first moment, its first week whole."""
    now = wall_at or datetime.now(UTC)
    today = now.astimezone(CST).date()
    monday = today + timedelta(days=7 - today.weekday())
    return anchor_for(datetime(monday.year, monday.month, monday.day, tzinfo=CST), speed, now)


def load_tokens(directory: Path) -> dict[str, str]:
    """``<actor>.token`` files of ``directory``: the actors that have one and their tokens."""
    tokens = {}
    for path in sorted(directory.glob("*.token")):
        actor = path.name.removesuffix(".token")
        if is_actor(actor):
            tokens[actor] = path.read_text(encoding="utf-8").strip()
    return tokens
