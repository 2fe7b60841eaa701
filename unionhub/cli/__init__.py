"""The ``unionhub`` command: one sub-command module per area, thin over the packages.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds
its parsers and sets ``handler(settings, args) -> exit code`` on them. Settings
are parsed here, once, and passed down.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from unionhub.errors import UnionhubError
from unionhub.logging import configure_logging
from unionhub.settings import Settings

COMMAND_MODULES: tuple[str, ...] = (
    "unionhub.cli.kafka",
    "unionhub.cli.topics",
    "unionhub.cli.intake",
    "unionhub.cli.tail",
    "unionhub.cli.router",
    "unionhub.cli.simulate",
    "unionhub.cli.check",
    "unionhub.cli.run",
    "unionhub.cli.connectors",
    "unionhub.cli.status",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="unionhub", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "UNIONHUB_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        print(f"unionhub: invalid setting {field}: {first['msg']}", file=sys.stderr)
        return 2
    configure_logging(settings)
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
