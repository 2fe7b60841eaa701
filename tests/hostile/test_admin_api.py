"""Hostile bodies at the admin REST API: clear JSON errors, and the server stays up.

The daemon's app over a real config store (real broker); no connectors run.
After every hostile call the server must still answer a well-formed request.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from tests.hostile.pii import SECRETS, leaks
from unionhub.admin import AdminService
from unionhub.daemon.server import build_app

pytestmark = pytest.mark.integration

TOKEN = SECRETS[1]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = {
    "name": "citizen",
    "channel": "citizen_app",
    "base_url": "http://127.0.0.1:9",
    "client_id": "hub",
    "client_secret": SECRETS[0],
}
VALIDATE = "/connector-plugins/citizen_app/config/validate?live=false"


def yaml_bomb(levels: int) -> str:
    """Billion laughs with YAML anchors: 9**levels "lol"s once expanded, a few hundred bytes."""
    return "\n".join(
        ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    )


YAML_BOMB = yaml_bomb(9)


@pytest.fixture
async def client(
    settings: Settings, topics: TopicCatalog, tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (tmp_path / "outside").write_text(SECRETS[0])
    (secrets_dir / "link_out").symlink_to(tmp_path / "outside")
    settings = settings.model_copy(update={"secrets_dir": secrets_dir})
    async with AdminService.open(settings, {}) as service:
        app = build_app(service, CollectorRegistry(), lambda: {"ok": True}, TOKEN)
        async with TestClient(TestServer(app)) as test_client:
            yield test_client


async def call(
    client: TestClient[Any, Any], method: str, path: str, body: bytes, content_type: str
) -> tuple[int, str, bytes]:
    headers = {**AUTH, "Content-Type": content_type}
    data = io.BytesIO(body)  # raw bytes over 1 MB make aiohttp warn about blocking the loop
    async with client.request(method, path, data=data, headers=headers) as response:
        return response.status, response.content_type, await response.read()


async def still_up(client: TestClient[Any, Any]) -> None:
    async with client.get("/connector-plugins", headers=AUTH) as response:
        assert response.status == 200


HOSTILE: list[tuple[str, bytes, str]] = [
    ("truncated JSON", orjson.dumps(CONFIG)[:-5], "application/json"),
    ("empty body", b"", "application/json"),
    ("not UTF-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("deep JSON nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("JSON NaN", b'{"name": NaN}', "application/json"),
    ("a JSON list", orjson.dumps([CONFIG]), "application/json"),
    ("a JSON string", b'"citizen"', "application/json"),
    ("null", b"null", "application/json"),
    ("unknown field", orjson.dumps({**CONFIG, "evil": 1}), "application/json"),
    ("channel a list", orjson.dumps({**CONFIG, "channel": ["x"]}), "application/json"),
    ("name with bidi", orjson.dumps({**CONFIG, "name": "a\u202eb"}), "application/json"),
    ("name with traversal", orjson.dumps({**CONFIG, "name": "../x"}), "application/json"),
    ("config a string", orjson.dumps({"name": "c", "config": "x"}), "application/json"),
    ("form content type", b"name=citizen&channel=citizen_app",
     "application/x-www-form-urlencoded"),
    ("XML content type", b"<config/>", "application/xml"),
    ("YAML not YAML", b"name: [unclosed", "application/yaml"),
    ("YAML python tag", b"name: !!python/object/apply:os.system [echo]", "application/yaml"),
    ("YAML anchor bomb", (YAML_BOMB + "\nname: *a9\nchannel: citizen_app").encode(),
     "application/yaml"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
async def test_hostile_bodies_get_a_json_400_and_the_server_stays_up(
    client: TestClient[Any, Any], body: bytes, content_type: str
) -> None:
    for method, path in (("POST", "/connectors"), ("PUT", "/connectors/citizen/config")):
        status, answer_type, answer = await call(client, method, path, body, content_type)
        assert status == 400, answer[:300]
        assert answer_type == "application/json"
        error = orjson.loads(answer)
        assert error["field"]
        assert not leaks(answer.decode())
    await still_up(client)


async def test_validate_reports_hostile_configs_without_failing(
    client: TestClient[Any, Any],
) -> None:
    body = orjson.dumps({**CONFIG, "evil": 1, "page_size": 1e30, "base_url": "file:///x"})
    status, answer_type, answer = await call(client, "PUT", VALIDATE, body, "application/json")
    assert status in (200, 400)
    assert answer_type == "application/json"
    assert not leaks(answer.decode())
    await still_up(client)


async def test_a_huge_body_is_refused_with_413(client: TestClient[Any, Any]) -> None:
    body = orjson.dumps({**CONFIG, "client_id": "x" * (10 * 1024 * 1024)})
    status, _, _ = await call(client, "POST", "/connectors", body, "application/json")
    assert status == 413
    await still_up(client)


async def test_a_huge_body_is_refused_with_a_json_error(client: TestClient[Any, Any]) -> None:
    body = orjson.dumps({**CONFIG, "client_id": "x" * (10 * 1024 * 1024)})
    _, answer_type, _ = await call(client, "POST", "/connectors", body, "application/json")
    assert answer_type == "application/json"


DEEP_YAML = [
    b"name: " + b"[" * 5000 + b"]" * 5000,
    "".join(f"{' ' * i}k:\n" for i in range(1200)).encode(),
]


@pytest.mark.parametrize("body", DEEP_YAML, ids=["flow", "block"])
async def test_deeply_nested_yaml_does_not_take_the_server_down(
    client: TestClient[Any, Any], body: bytes
) -> None:
    status, _, _ = await call(client, "POST", "/connectors", body, "application/yaml")
    assert status in (400, 500)
    await still_up(client)


@pytest.mark.parametrize("body", DEEP_YAML, ids=["flow", "block"])
async def test_deeply_nested_yaml_is_a_json_400(client: TestClient[Any, Any], body: bytes) -> None:
    status, answer_type, _ = await call(client, "POST", "/connectors", body, "application/yaml")
    assert (status, answer_type) == (400, "application/json")


@pytest.mark.parametrize(
    "target",
    ["../outside", "link_out", "/etc/passwd", "../" * 20 + "etc/passwd", "a\u0000b"],
    ids=["traversal", "symlink out", "absolute", "many dot-dots", "NUL"],
)
async def test_validate_refuses_file_references_leaving_the_secrets_dir(
    client: TestClient[Any, Any], target: str
) -> None:
    body = orjson.dumps({**CONFIG, "client_secret": f"${{file:{target}}}"})
    status, answer_type, answer = await call(client, "PUT", VALIDATE, body, "application/json")
    assert answer_type == "application/json"
    assert SECRETS[0].encode() not in answer
    result = orjson.loads(answer)
    assert status == 200
    assert [e["field"] for e in result["errors"]] == ["client_secret"], result


@pytest.mark.parametrize(
    "where",
    [
        "channel",
        "name",
        "client_id",
    ],
)
async def test_a_small_anchor_bomb_is_not_expanded(
    client: TestClient[Any, Any], where: str
) -> None:
    # 6 levels expand to 531441 items (several MB as text): enough to see, cheap to survive.
    fields = {**CONFIG, where: "*a6"}
    body = yaml_bomb(6) + "\n" + "\n".join(f"{k}: {v}" for k, v in fields.items())
    tracemalloc.start()
    try:
        status, answer_type, _ = await call(
            client, "POST", "/connectors", body.encode(), "application/yaml"
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (status, answer_type) == (400, "application/json")
    assert peak < 2_000_000, f"peak {peak} bytes for a {len(body)}-byte body"
    await still_up(client)
