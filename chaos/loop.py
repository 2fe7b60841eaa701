"""The chaos run's case loop: the simulated federations at work through the kills, then judged.

The loop clock runs :data:`LOOP_DAYS_IN_WINDOW` loop days in the chaos window,
from Monday 18 May 2026 00:00 CST, so that cases are accepted, resolved,
visited and reopened while the daemon is killed and the broker restarted. A
federation per district and the city desk (``simulators.federations``) acts
through the daemon's case API with its own token. When the window ends the
federations stop; the run waits until no case still waits on its visit (the
auto-close comes 15 loop days after a resolve), so that no reply or state is
still owed when the judges read.

Two judges: the checker's independent replay of every action, dispatch event
and clock (:func:`checker.loop.check_loop`, the wall-time windows when the
router was down excused for SLA alerts), and the daemon's own figures of May
(``GET /stats?period=month``), read from its case store once that has applied
every state, compared with the replay's. May ends inside the window, so its
figures no longer move; those evaluated at "now" (open, overdue now, the ages
of open cases) are left out, as are the hours' percentiles the replay names
otherwise.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from caseloop.calendar import CST
from chaos.kafka import past_last_records
from checker import read_observed
from checker.loop import LoopOptions, LoopReport, LoopTime, check_loop, read_loop_observed
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.polling import poll_until
from review.store import open_case_store
from schemas.caseloop import CITY_DESK, CaseStatus
from schemas.shenzhen import DISTRICTS
from simulators.federations import FederationOptions, LedgerEntry, Outcome, anchor_for
from unionhub.cases.topicview import read_case_states
from unionhub.configstore import ConfigStore

LOOP_START = datetime(2026, 5, 18, tzinfo=CST)  # a Monday; May ends 14 loop days later
LOOP_DAYS_IN_WINDOW = 16
FIGURES_PERIOD_AT = LOOP_START  # the month whose figures are judged: May 2026
# The chaos run's wall-time tolerance for an SLA level (the checker's default is 5 s): the
# daemon shares two cores with the broker, the simulators and thirteen federations.
SLA_TOLERANCE = timedelta(seconds=10)
ACTORS = (*(d.slug for d in DISTRICTS), CITY_DESK)
FIXED_FIGURES = (  # the /stats figures of a closed period that the replay computes too
    "accept_rate",
    "accept_on_time_rate",
    "resolve_rate",
    "resolve_on_time_rate",
    "satisfaction_rate",
    "repeat_rate",
    "dispatched",
    "accepted",
    "resolved",
    "visits",
    "reopened",
    "returned",
)


@dataclass(frozen=True)
class LoopSetup:
    """One run's loop clock (speed, anchor) and each actor's case API token."""

    speed: float
    anchor: datetime
    tokens: dict[str, str]

    @classmethod
    def for_window(cls, duration_s: float, wall_at: datetime | None = None) -> LoopSetup:
        """A clock on which ``duration_s`` of wall time from ``wall_at`` (default now) spans
        :data:`LOOP_DAYS_IN_WINDOW` loop days from :data:`LOOP_START`; fresh tokens."""
        speed = LOOP_DAYS_IN_WINDOW * 86_400 / duration_s
        anchor = anchor_for(LOOP_START, speed, wall_at or datetime.now(UTC))
        tokens = {actor: secrets.token_urlsafe(18) for actor in ACTORS}
        return cls(speed, anchor, tokens)

    @property
    def clock(self) -> LoopTime:
        """The checker's view of the same clock."""
        return LoopTime(self.speed, self.anchor)

    def environment(self) -> dict[str, str]:
        """The daemon's ``UNIONHUB_LOOP_*`` settings for this clock."""
        return {
            "UNIONHUB_LOOP_SPEED": repr(self.speed),
            "UNIONHUB_LOOP_ANCHOR": self.anchor.isoformat(),
        }

    def federations(
        self, seed: int, daemon_url: str, settings: Settings, ledger: Path
    ) -> FederationOptions:
        """The federations' options: every actor, this clock, the run's broker and namespace."""
        return FederationOptions(
            seed=seed,
            daemon_url=daemon_url,
            tokens=self.tokens,
            bootstrap=settings.kafka_bootstrap,
            namespace=settings.namespace,
            speed=self.speed,
            anchor=self.anchor,
            ledger_path=ledger,
        )


@dataclass(frozen=True)
class DaemonFigures:
    """The daemon's figures of one period (``GET /stats``, the city desk's view)."""

    start: datetime
    end: datetime
    scopes: dict[str, dict[str, Any]]  # scope -> the fixed figures of :data:`FIXED_FIGURES`


@dataclass
class LoopFigures:
    """The loop's part of a chaos run: the replay's report, the daemon's May, the federations."""

    report: LoopReport = field(default_factory=LoopReport)
    figures: DaemonFigures | None = None
    attempts: Counter[str] = field(default_factory=Counter)  # the federations' outcomes

    @property
    def ok(self) -> bool:
        """The replay agrees with everything published, the figures were compared, and no
        federation built an action the API found invalid."""
        compared = self.report.figures_compared > 0
        return self.report.ok and compared and self.attempts[Outcome.INVALID.value] == 0


async def register_tokens(settings: Settings, tokens: dict[str, str], secrets_dir: Path) -> None:
    """Write each actor's token to ``secrets_dir/access/<actor>.token`` and store a
    ``${file:...}`` reference to it in the config store (never the token itself), as an
    admin does with ``unionhub access set``; the daemon's case API reads them there."""
    folder = secrets_dir / "access"
    folder.mkdir(parents=True, exist_ok=True)
    async with ConfigStore(settings.kafka_bootstrap, TopicCatalog(settings.namespace)) as store:
        for actor, token in tokens.items():
            path = folder / f"{actor}.token"
            path.write_text(token, "utf-8")
            path.chmod(0o600)
            await store.put_access(actor, "${file:access/" + path.name + "}")


async def wait_settled(settings: Settings, timeout_s: float) -> None:
    """Wait until no case is resolved and waiting on its visit (the federations have stopped:
    each such case closes on its own, 15 loop days on), so nothing owed is still to come."""
    catalog = TopicCatalog(settings.namespace)

    async def settled() -> bool:
        states = await read_case_states(settings.kafka_bootstrap, catalog)
        return all(state.status is not CaseStatus.RESOLVED for state in states.values())

    await poll_until(settled, what="every resolved case closed", timeout_s=timeout_s, every_s=1.0)


async def wait_store_caught_up(daemon_settings: Settings, timeout_s: float) -> None:
    """Wait until the daemon's case store has applied every record ``cases.state`` holds now."""
    topic = TopicCatalog(daemon_settings.namespace).cases_state
    targets = await past_last_records(daemon_settings.kafka_bootstrap, topic)

    async def caught_up() -> bool:
        store = open_case_store(daemon_settings, read_only=True)
        try:
            held = store.offsets()
        finally:
            store.close()
        return all(held.get((tp.topic, tp.partition), -1) >= n for tp, n in targets.items())

    await poll_until(caught_up, what="the case store caught up", timeout_s=timeout_s, every_s=1.0)


async def daemon_figures(base_url: str, city_token: str) -> DaemonFigures:
    """The daemon's figures of the month holding :data:`FIGURES_PERIOD_AT` (May)."""
    query = {"period": "month", "at": FIGURES_PERIOD_AT.isoformat()}
    headers = {"Authorization": f"Bearer {city_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/stats", params=query, headers=headers) as resp,
    ):
        resp.raise_for_status()
        body = await resp.json()
    scopes = {
        scope: {name: values[name] for name in FIXED_FIGURES}
        for scope, values in body["figures"].items()
    }
    start, end = (datetime.fromisoformat(body[k]) for k in ("start", "end"))
    return DaemonFigures(start, end, scopes)


async def judge_loop(
    settings: Settings,
    setup: LoopSetup,
    figures: DaemonFigures,
    downtime: list[tuple[datetime, datetime]],
    attempts: list[LedgerEntry],
) -> LoopFigures:
    """The replay's report over the run's topics, with the daemon's figures of May judged."""
    observed = await read_observed(settings.kafka_bootstrap, settings.namespace)
    observed = await read_loop_observed(settings.kafka_bootstrap, settings.namespace, observed)
    options = LoopOptions(
        clock=setup.clock,
        tolerance=SLA_TOLERANCE,
        downtime=tuple(downtime),
        period=(figures.start, figures.end),
        figures=figures.scopes,
        namespace=settings.namespace,
    )
    report = check_loop(observed, options)
    outcomes = Counter(entry.outcome.value for entry in attempts)
    outcomes["refused, expected"] = sum(
        e.outcome is Outcome.REFUSED and e.expected for e in attempts
    )
    return LoopFigures(report=report, figures=figures, attempts=outcomes)
