"""``unionhub intake run FILE.yaml [...]``: run connectors until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from connectors.base import SourceContext
from connectors.runner import ConnectorRunner, load_config_file
from connectors.secrets import SecretResolver
from core.errors import KafkaSetupError
from core.kafka.clients import admin_client
from core.kafka.topics import TopicCatalog
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``intake`` command group."""
    parser = subparsers.add_parser("intake", help="pull upstream channels into Kafka")
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="run connector configs until SIGTERM/SIGINT")
    run.add_argument("files", nargs="+", type=Path, help="connector config YAML files")
    run.set_defaults(handler=_run)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # The environment is read here, at the top, for ${env:NAME} secret references.
    resolver = SecretResolver(dict(os.environ), settings.secrets_dir)
    configs = [load_config_file(path, resolver) for path in args.files]

    async def main() -> int:
        catalog = TopicCatalog(settings.namespace)
        needed = {catalog.intake_dlq, catalog.checkpoints} | {
            catalog.raw(config.channel) for config in configs
        }
        async with admin_client(settings.kafka_bootstrap) as admin:
            missing = sorted(needed - set(await admin.list_topics()))
        if missing:
            raise KafkaSetupError(
                f"missing topics {', '.join(missing)}: run `unionhub topics ensure` first"
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner = ConnectorRunner(SourceContext.from_settings(settings), configs)
        return await runner.run_until(stop)

    return asyncio.run(main())
