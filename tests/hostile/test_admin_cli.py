"""Hostile config files at ``unionhub connectors validate``: a clear error, never a traceback.

The command's handler is run as ``unionhub.cli.main`` runs it; ``main`` prints a
:class:`UnionhubError` as ``unionhub: <field>: <reason>`` and exits 1, so any
other exception escaping is a traceback for the operator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.errors import UnionhubError
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from tests.hostile.pii import SECRETS, leaks
from unionhub.cli import build_parser

pytestmark = pytest.mark.integration

VALID = (
    "name: citizen\nchannel: citizen_app\nbase_url: http://127.0.0.1:9\n"
    f"client_id: hub\nclient_secret: {SECRETS[0]}\n"
)


async def validate(settings: Settings, path: Path) -> str:
    """What the operator sees: ``exit N`` or ``error: <message>``."""
    args = build_parser().parse_args(["connectors", "validate", str(path), "--no-live"])
    try:
        code: int = await asyncio.to_thread(args.handler, settings, args)
    except UnionhubError as exc:
        return f"error: {exc}"
    return f"exit {code}"


CLEAR: list[tuple[str, bytes]] = [
    ("not YAML", b"name: [unclosed\n"),
    ("a list", b"- a\n- b\n"),
    ("unknown field", (VALID + "evil: 1\n").encode()),
    ("channel unknown", VALID.replace("citizen_app", "fax").encode()),
    ("python tag", b"name: !!python/object/apply:os.system [echo]\n"),
    ("file reference outside", VALID.replace(SECRETS[0], "${file:../../etc/passwd}").encode()),
]


@pytest.mark.parametrize("content", [c[1] for c in CLEAR], ids=[c[0] for c in CLEAR])
async def test_hostile_files_get_a_clear_refusal(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    seen = await validate(settings, path)
    assert seen != "exit 0"
    assert not leaks(seen)


HOSTILE_FILES: list[tuple[str, bytes]] = [
    ("not UTF-8", b"name: \xff\xfe\n"),
    ("deep nesting", b"name: " + b"[" * 5000 + b"]" * 5000),
    ("duplicate key", (VALID + "client_id: other\n").encode()),
]


@pytest.mark.parametrize(
    "content", [b[1] for b in HOSTILE_FILES], ids=[b[0] for b in HOSTILE_FILES]
)
async def test_hostile_files_are_refused_clearly(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    seen = await validate(settings, path)
    assert seen.startswith("error: ") or seen == "exit 1"
