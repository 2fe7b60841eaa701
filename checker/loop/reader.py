"""Reading the case loop's topics (``cases.actions.*``, ``cases.state``, ``alerts.sla``)."""

from __future__ import annotations

from checker.observed import Message, Observed
from core.kafka.clients import admin_client
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog


def loop_topics(catalog: TopicCatalog) -> list[str]:
    """Every topic of the loop the checker reads."""
    return [catalog.cases_state, catalog.sla_alerts, *catalog.action_topics()]


async def loop_topics_exist(bootstrap: str, namespace: str) -> bool:
    """Whether every topic of the loop exists in the namespace."""
    async with admin_client(bootstrap) as admin:
        present = set(await admin.list_topics())
    return set(loop_topics(TopicCatalog(namespace))) <= present


async def read_loop_observed(bootstrap: str, namespace: str, observed: Observed) -> Observed:
    """``observed`` with every committed message of the loop's topics added (read_committed,
    up to the end offsets at call time; ``cases.state`` keys and tombstones kept)."""
    catalog = TopicCatalog(namespace)
    lists = {catalog.cases_state: observed.case_states, catalog.sla_alerts: observed.sla_alerts}
    lists |= dict.fromkeys(catalog.action_topics(), observed.actions)
    records = await read_to_end(bootstrap, *lists)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        lists[record.topic].append(
            Message.decode(
                record.topic, record.partition, record.offset, record.value, None, record.key
            )
        )
    return observed
