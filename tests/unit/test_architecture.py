"""The layout of docs/architecture.md: small product modules, tooling out of the product.

The import contracts themselves (layers, no product import of tooling) are
checked by ``lint-imports`` in ``make lint``; these tests hold what an import
graph cannot show.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

from tests.conftest import REPO_ROOT
from unionhub.cli import PRODUCT_COMMANDS, TOOL_COMMANDS_GROUP, build_parser

PRODUCT_PACKAGES = ("schemas", "core", "connectors", "router", "unionhub")
TOOLING_PACKAGES = ("simulators", "checker", "chaos", "benchmarks", "devtools")
MAX_MODULE_LINES = 400


def product_modules() -> list[Path]:
    return sorted(p for pkg in PRODUCT_PACKAGES for p in (REPO_ROOT / pkg).rglob("*.py"))


def test_no_product_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_the_container_image_copies_the_product_packages_and_no_tooling() -> None:
    text = (REPO_ROOT / "deploy" / "container" / "Containerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, flags=re.MULTILINE))
    assert copied == set(PRODUCT_PACKAGES)


def test_tool_commands_come_from_the_tooling_packages_as_entry_points() -> None:
    tools = {e.name: e.value.split(":")[0] for e in entry_points(group=TOOL_COMMANDS_GROUP)}
    assert tools == {"kafka": "devtools.cli", "simulate": "simulators.cli", "check": "checker.cli"}
    product = {module.__name__.split(".")[0] for module in PRODUCT_COMMANDS}
    assert product == {"unionhub"}
    # Installed here (a development checkout): the parser offers them beside the product's.
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert choices is not None
    assert {"kafka", "simulate", "check", "run", "connectors", "tail"} <= set(choices)
