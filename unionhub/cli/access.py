"""``unionhub access set|list|remove``: the case API's tokens, per district and the city desk.

Stored in the config topic like connector secrets (give a ``${file:NAME}`` or
``${env:NAME}`` reference; a literal is stored as given and never shown). A
running daemon takes a change within about a second: a token is rotated by
setting it again (or by changing the file its reference names).
"""

from __future__ import annotations

import argparse
import asyncio

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from unionhub.cases.access import check_access
from unionhub.configstore import ConfigStore, is_secret_reference


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``access`` command group."""
    parser = subparsers.add_parser("access", help="bearer tokens of districts and the city desk")
    verbs = parser.add_subparsers(dest="verb", required=True)
    put = verbs.add_parser("set", help="set (or rotate) an actor's token")
    put.add_argument("actor", help="district slug or 'city'")
    put.add_argument("token", help="${file:NAME}, ${env:NAME}, or a literal (16+ characters)")
    put.set_defaults(handler=_set)
    verbs.add_parser("list", help="who has a token (never the token)").set_defaults(handler=_list)
    remove = verbs.add_parser("remove", help="remove an actor's token (its calls are refused)")
    remove.add_argument("actor")
    remove.set_defaults(handler=_remove)


def _store(settings: Settings) -> ConfigStore:
    return ConfigStore(settings.kafka_bootstrap, TopicCatalog(settings.namespace))


def _set(settings: Settings, args: argparse.Namespace) -> int:
    check_access(args.actor, args.token)

    async def run() -> None:
        async with _store(settings) as store:
            await store.put_access(args.actor, args.token)

    asyncio.run(run())
    kind = "reference" if is_secret_reference(args.token) else "literal"
    print(f"access token of {args.actor} set ({kind})")
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> dict[str, str]:
        async with _store(settings) as store:
            held = await store.access_snapshot()
        return {
            actor: "reference" if is_secret_reference(a.token) else "literal"
            for actor, a in held.items()
        }

    for actor, kind in sorted(asyncio.run(run()).items()):
        print(f"{actor:<12} {kind}")
    return 0


def _remove(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> None:
        async with _store(settings) as store:
            await store.delete_access(args.actor)

    asyncio.run(run())
    print(f"access token of {args.actor} removed")
    return 0
