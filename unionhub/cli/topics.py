"""``unionhub topics ensure|list``: provision the topic catalogue."""

from __future__ import annotations

import argparse
import asyncio

from core.kafka.clients import admin_client
from core.kafka.topics import EnsureReport, TopicCatalog, ensure_topics
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``topics`` command group."""
    parser = subparsers.add_parser("topics", help="create and check unionhub's topics")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("ensure", help="create missing topics, fix their configs").set_defaults(
        handler=_ensure
    )
    verbs.add_parser("list", help="print the declared topics").set_defaults(handler=_list)


def _ensure(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> EnsureReport:
        async with admin_client(settings.kafka_bootstrap) as admin:
            return await ensure_topics(
                admin,
                TopicCatalog(settings.namespace).specs(),
                replication_factor=settings.topic_replication_factor,
            )

    report = asyncio.run(run())
    for name in report.created:
        print(f"created  {name}")
    for name, diff in report.altered.items():
        print(f"altered  {name} " + " ".join(f"{k}={v}" for k, v in sorted(diff.items())))
    if not report.changed:
        print(
            f"all {len(report.unchanged)} topics exist with their declared configs; nothing changed"
        )
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    for spec in TopicCatalog(settings.namespace).specs():
        configs = " ".join(f"{k}={v}" for k, v in sorted(spec.configs.items()))
        print(f"{spec.name}\tpartitions={spec.partitions}\t{configs}")
    return 0
