"""Broker loss on the three-node cluster: SIGKILL the leader of the busiest partition, restart it.

Every record passes through the one partition of ``unionhub.router.normalized``
(the dedupe stage's total order), so its leader is the busiest broker of a run;
:func:`kill_busiest_leader` SIGKILLs that node (as a machine that dies would go)
and returns once the cluster has elected another leader for it. :func:`restart`
starts the node again and returns once it has caught up, every replica of the
busy topics back in sync, so that a second loss never meets a partition with
fewer in-sync replicas than ``min.insync.replicas``. Both wait on the cluster's
metadata, not on the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from core.kafka.clients import admin_client
from core.kafka.topics import TopicCatalog
from devtools.kafka_cluster import LocalCluster
from devtools.polling import ConditionTimeoutError, poll_until

log = structlog.get_logger(__name__)

POLL_S = 0.5


@dataclass(frozen=True)
class BrokerLoss:
    """One leader kill: the node, and how many partitions of the busy topics it led."""

    node_id: int
    partitions_led: int


def busy_topics(catalog: TopicCatalog) -> list[str]:
    """The topics every record passes through: raw intake and the normalized hand-over."""
    return [catalog.router_normalized, *catalog.raw_topics()]


async def _partitions(cluster: LocalCluster, topics: list[str]) -> list[dict[str, object]]:
    async with admin_client(cluster.bootstrap, security=cluster.security()) as admin:
        described = await admin.describe_topics(topics)
    return [p for t in described for p in t["partitions"]]


async def kill_busiest_leader(
    cluster: LocalCluster, catalog: TopicCatalog, timeout_s: float
) -> BrokerLoss:
    """SIGKILL the leader of ``unionhub.router.normalized``; return once another leads it."""
    victim = await cluster.leader_of(catalog.router_normalized)
    led = sum(1 for p in await _partitions(cluster, busy_topics(catalog)) if p["leader"] == victim)
    await cluster.kill(victim)
    log.info("chaos: broker SIGKILLed", node=victim, partitions_led=led)

    async def re_elected() -> bool:
        try:
            leader = await cluster.leader_of(catalog.router_normalized)
        except Exception:  # noqa: BLE001 - metadata mid-election: not yet
            return False
        return leader not in (victim, -1)

    await poll_until(
        re_elected, timeout_s=timeout_s, every_s=POLL_S, what="a new leader of the busiest topic"
    )
    return BrokerLoss(victim, led)


async def restart(
    cluster: LocalCluster, catalog: TopicCatalog, node_id: int, timeout_s: float
) -> None:
    """Start ``node_id`` again; return once every busy partition has all its replicas in sync."""
    await cluster.start(node_id, timeout_s)
    replicas = cluster.brokers

    async def in_sync() -> bool:
        partitions = await _partitions(cluster, busy_topics(catalog))
        return all(len(p["isr"]) == replicas for p in partitions)  # type: ignore[arg-type]

    try:
        await poll_until(in_sync, timeout_s=timeout_s, every_s=POLL_S, what="replicas in sync")
    except ConditionTimeoutError:
        log.warning("chaos: the restarted broker has not caught up yet", node=node_id)
    log.info("chaos: broker back", node=node_id)
