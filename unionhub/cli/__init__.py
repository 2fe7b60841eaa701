"""The ``unionhub`` command: one sub-command module per area, thin over the packages.

Each command module exposes ``register(subparsers)``, which adds its parsers
and sets ``handler(settings, args) -> exit code`` on them. Settings are parsed
here, once, and passed down.

The product's commands are the modules of :data:`PRODUCT_COMMANDS`. Tool
commands (``kafka`` for the local broker, ``simulate``, ``check``) live in the
tooling packages and register themselves as entry points of the group
:data:`TOOL_COMMANDS_GROUP` in ``pyproject.toml``; where those packages are not
installed (the container image) the commands are simply absent, and the
product never imports them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from pydantic import ValidationError

from core.errors import ConfigError, UnionhubError
from core.kafka.clients import configure_clients
from core.logging import configure_logging
from core.settings import Settings
from unionhub.cli import (
    access,
    calendar,
    cases,
    connectors,
    intake,
    report,
    router,
    run,
    stats,
    status,
    tail,
    topics,
)

PRODUCT_COMMANDS: tuple[ModuleType, ...] = (
    topics,
    intake,
    tail,
    router,
    run,
    connectors,
    status,
    cases,
    stats,
    access,
    calendar,
    report,
)
TOOL_COMMANDS_GROUP = "unionhub.tools"

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def tool_commands() -> list[Register]:
    """The ``register`` functions of the installed tool commands (none in the image)."""
    found: list[Register] = []
    for entry in sorted(entry_points(group=TOOL_COMMANDS_GROUP), key=lambda e: e.name):
        try:
            found.append(entry.load())
        except ModuleNotFoundError:
            continue  # declared by the project, but its package is not installed here
    return found


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="unionhub", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in PRODUCT_COMMANDS:
        module.register(subparsers)
    for register in tool_commands():
        register(subparsers)
    return parser


_NAMED = re.compile(r"(?:Value error, )?(UNIONHUB_[A-Z0-9_]+): (.*)", re.DOTALL)


def _invalid_settings(exc: ValidationError) -> str:
    """One line naming the setting a validation error is about."""
    first = exc.errors()[0]
    if first["loc"]:
        field = "UNIONHUB_" + str(first["loc"][0]).upper()
        return f"invalid setting {field}: {first['msg']}"
    named = _NAMED.fullmatch(str(first["msg"]))
    if named is not None:  # a rule across settings whose message starts with the one to fix
        return f"invalid setting {named[1]}: {named[2]}"
    return f"invalid settings: {first['msg']}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        configure_logging(settings)
        # Every Kafka client of the process authenticates with these (core/kafka/clients.py).
        configure_clients(settings, os.environ)
    except ValidationError as exc:
        print(f"unionhub: {_invalid_settings(exc)}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"unionhub: invalid setting {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    try:
        code: int = args.handler(settings, args)
    except UnionhubError as exc:
        print(f"unionhub: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
