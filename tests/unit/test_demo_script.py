"""The demo's script (deploy/demo.sh) names only modules and names the code has."""

from __future__ import annotations

import importlib
import re

from tests.conftest import REPO_ROOT

IMPORT = re.compile(r"^(?:\S*'|)from ([\w.]+) import ([\w, ]+)$", re.MULTILINE)


def test_every_import_of_the_demo_s_inline_python_resolves() -> None:
    script = (REPO_ROOT / "deploy" / "demo.sh").read_text(encoding="utf-8")
    found = [(m.group(1), m.group(2)) for m in IMPORT.finditer(script)]
    assert len(found) >= 3  # the cluster probe, the case store path, the loop anchor
    for module, names in found:
        imported = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(imported, name), f"deploy/demo.sh: {module} has no {name}"
