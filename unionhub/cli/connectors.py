"""``unionhub connectors add|list|show|validate|pause|resume|restart|remove|offsets``.

A thin layer over :class:`unionhub.admin.AdminService`: the same operations
as the REST API, straight against Kafka (no daemon needed). Output is JSON
with secrets masked; refusals print the field and the reason and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from connectors.configfile import read_config_file
from core.settings import Settings
from unionhub.admin import AdminError, AdminService

Action = Callable[[AdminService, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``connectors`` command group."""
    parser = subparsers.add_parser(
        "connectors", help="add, inspect, pause and remove connectors (configs kept in Kafka)"
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    add = verbs.add_parser("add", help="store connector configs (YAML or JSON files)")
    add.add_argument("files", nargs="+", type=Path)
    add.add_argument("--replace", action="store_true", help="replace a connector of that name")
    add.set_defaults(handler=_handler(_add))

    verbs.add_parser("list", help="every connector, its target state and status").set_defaults(
        handler=_handler(_list)
    )

    show = verbs.add_parser("show", help="a connector's config (secrets masked) and status")
    show.add_argument("name")
    show.set_defaults(handler=_handler(_show))

    validate = verbs.add_parser(
        "validate", help="check a config file's fields and that the upstream accepts it"
    )
    validate.add_argument("file", type=Path)
    validate.add_argument("--no-live", action="store_true", help="skip the upstream check")
    validate.set_defaults(handler=_handler(_validate))

    for verb, text in (
        ("pause", "stop polling (the daemon applies it within seconds)"),
        ("resume", "poll again"),
        ("restart", "stop and start again (also a FAILED connector, at once)"),
        ("remove", "delete the connector (its checkpoints stay)"),
    ):
        cmd = verbs.add_parser(verb, help=text)
        cmd.add_argument("name")
        cmd.set_defaults(handler=_handler(_simple(verb)))

    offsets = verbs.add_parser("offsets", help="show, or reset while paused, checkpoints")
    offsets.add_argument("name")
    offsets.add_argument("--reset", action="store_true", help="forget them (only while paused)")
    offsets.add_argument(
        "--to",
        metavar="JSON|FILE",
        help='with --reset: set them instead, e.g. \'{"NAME": {"cursor": null}}\'',
    )
    offsets.set_defaults(handler=_handler(_offsets))


def _handler(action: Action) -> Callable[[Settings, argparse.Namespace], int]:
    def handle(settings: Settings, args: argparse.Namespace) -> int:
        # The environment is read here, at the top, for ${env:NAME} references.
        environ = dict(os.environ)

        async def main() -> int:
            async with AdminService.open(settings, environ) as service:
                return await action(service, args)

        return asyncio.run(main())

    return handle


def _print(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


def _load(path: Path) -> Any:
    return read_config_file(path)


async def _add(service: AdminService, args: argparse.Namespace) -> int:
    for path in args.files:
        config = _load(path)
        if args.replace and isinstance(config, dict) and isinstance(config.get("name"), str):
            created, _ = await service.put_config(config["name"], config)
            print(f"{'created' if created else 'replaced'} {config['name']}")
        else:
            described = await service.create(config)
            print(f"created {described['name']}")
    return 0


async def _list(service: AdminService, args: argparse.Namespace) -> int:
    names = await service.list_names()
    if not names:
        print("no connectors")
        return 0
    print(f"{'NAME':<28} {'TYPE':<6} {'CHANNEL':<20} {'TARGET':<8} {'STATE':<10} LAST SUCCESS")
    for name in names:
        status = await service.status(name)
        connector = status["connector"]
        print(
            f"{name:<28} {status['type']:<6} {status['channel']!s:<20} "
            f"{status['target_state']:<8} {connector['state']:<10} "
            f"{connector.get('last_success_at') or '-'}"
        )
    return 0


async def _show(service: AdminService, args: argparse.Namespace) -> int:
    _print(await service.describe(args.name))
    return 0


async def _validate(service: AdminService, args: argparse.Namespace) -> int:
    result = await service.validate(_load(args.file), live=not args.no_live)
    for problem in result["errors"]:
        print(f"{problem['field']}: {problem['reason']}")
    if result["error_count"]:
        return 1
    live = "upstream answered, credentials accepted" if result["live_check"]["checked"] else ""
    print(f"valid{'; ' + live if live else ''}")
    return 0


def _simple(verb: str) -> Action:
    async def act(service: AdminService, args: argparse.Namespace) -> int:
        await getattr(service, verb)(args.name)
        print(f"{verb} {args.name}: done (a running daemon applies it within seconds)")
        return 0

    return act


async def _offsets(service: AdminService, args: argparse.Namespace) -> int:
    if args.to is not None and not args.reset:
        raise AdminError("--to", "only with --reset")
    if not args.reset:
        _print(await service.offsets(args.name))
        return 0
    to = _parse_to(args.to) if args.to is not None else None
    _print(await service.reset_offsets(args.name, to))
    return 0


def _parse_to(text: str) -> Any:
    """``--to``: inline JSON, or a YAML/JSON file of ``{key: checkpoint}``."""
    candidate = Path(text)
    if not text.lstrip().startswith("{") and candidate.is_file():
        return _load(candidate)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise AdminError("--to", "not JSON and not a file") from None
