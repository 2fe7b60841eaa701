"""Waiting for a run's pipeline to drain, then the checker's figures.

Drained means: every reply ``cases.state`` owes told and the reply sinks
paused (:mod:`chaos.replies`); every expected version and dead letter
accounted for (the checker's ``lost`` and missing dead letters at 0, the
replies' echoes included); then the connectors paused through the admin API,
so the raw topics end; then both router groups committed past the last record
of their input: nothing more can follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import TopicPartition

from chaos.daemon import AdminApi
from chaos.kafka import group_reached, past_last_records
from chaos.plan import POLL_S
from checker import CheckReport, Expectations, check, read_observed
from core.settings import Settings
from devtools.polling import poll_until
from router.stages import dispatch_stage_config, normalize_stage_config


@dataclass
class Judge:
    """The checker's view of one namespace against one scenario's expectations."""

    settings: Settings
    expectations: Expectations
    pii_terms: list[str]
    # The simulators' expectations now: a reply gives its record a version (its echo).
    refresh: Callable[[], Expectations] | None = None

    async def report(self, *, live: bool = True) -> CheckReport:
        """The figures of what the namespace holds now (against the current expectations)."""
        if self.refresh is not None:
            self.expectations = self.refresh()
        observed = await read_observed(self.settings.kafka_bootstrap, self.settings.namespace)
        return check(self.expectations, observed, live=live, pii_terms=self.pii_terms)


async def wait_accounted_for(judge: Judge, timeout_s: float) -> CheckReport:
    """Wait until nothing expected is missing; the figures then."""
    last: list[CheckReport] = [CheckReport()]

    async def accounted_for() -> bool:
        last[0] = await judge.report()
        return last[0].lost == 0 and last[0].dead_letters_missing == 0

    try:
        await poll_until(
            accounted_for,
            what="every expected record accounted for",
            timeout_s=timeout_s,
            every_s=2.0,
        )
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; the last figures:\n{last[0].format()}") from None
    return last[0]


async def pause_connectors(admin: AdminApi, names: Iterable[str], timeout_s: float) -> None:
    """Pause every connector and wait until each shows PAUSED (its writes have ended)."""
    for name in names:

        async def paused(name: str = name) -> bool:
            return await admin.pause(name) and await admin.state(name) == "PAUSED"

        await poll_until(paused, what=f"{name} paused", timeout_s=timeout_s, every_s=POLL_S)


async def wait_router_idle(settings: Settings, timeout_s: float) -> None:
    """Wait until both router stages have committed past the end of their input (the raw
    topics, the districts' action topics, the normalized records)."""
    bootstrap = settings.kafka_bootstrap
    for stage in (normalize_stage_config(settings), dispatch_stage_config(settings)):
        targets = await past_last_records(bootstrap, *stage.input_topics)

        async def reached(
            group: str = stage.group_id, targets: dict[TopicPartition, int] = targets
        ) -> bool:
            return await group_reached(bootstrap, group, targets)

        await poll_until(
            reached,
            what=f"group {stage.group_id} committed its input",
            timeout_s=timeout_s,
            every_s=POLL_S,
        )
