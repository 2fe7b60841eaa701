"""A running citizen_app connector against a tiny hostile upstream, over the real broker.

The upstream first answers garbage (an HTML page, truncated JSON, a wrong
content type) more often than the retry policy tries, then a page holding a
record too large for a Kafka message, a broken record and a good one. The
connector must keep running through the garbage (retrying, as its resolution
table says for a malformed response), then commit the good record, a dead
letter for the broken one and a bounded ``record_too_large`` dead letter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from connectors.base import SourceContext, SourceState
from connectors.channels.citizen_app import CitizenAppSource
from connectors.config import CitizenAppConfig
from connectors.oversize import MAX_MESSAGE_BYTES
from connectors.retry import RetryPolicy
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from tests.hostile.pii import ID_NUMBER, PHONE, SECRETS
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


def appeal(appeal_id: str, **changes: Any) -> dict[str, Any]:
    item = {
        "appeal_id": appeal_id, "version": 1, "submitted_at": "2025-05-23T14:00:00+08:00",
        "updated_at": "2025-05-23T14:05:00+08:00", "title": "欠薪", "content": "拖欠工资",
        "category_code": "LAB-WAGE", "status": "submitted",
        "appellant": {"name": "陈望", "mobile": PHONE, "id_no": ID_NUMBER},
    }  # fmt: skip
    item.update(changes)
    return item


GOOD_PAGE = {
    "data": [
        appeal("HUGE", content="欠" * 700_000),  # 2.1 MB: over Kafka's 1 MiB message limit
        appeal("BROKEN", version="one"),
        appeal("GOOD"),
    ],
    "next_cursor": "c1",
    "has_more": False,
}
GARBAGE: list[tuple[bytes, str]] = [
    (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    (orjson.dumps(GOOD_PAGE)[:5000], "application/json"),  # truncated
    (b"", "application/json"),
    (b'{"data": [', "text/plain"),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
]


class HostileUpstream:
    """citizen_app's two endpoints; the appeal log serves GARBAGE first, then real pages."""

    def __init__(self) -> None:
        self.log_calls = 0
        self.garbage_served = asyncio.Event()

    async def token(self, _: web.Request) -> web.Response:
        return web.json_response({"access_token": SECRETS[1], "expires_in": 3600})

    async def appeals(self, request: web.Request) -> web.Response:
        self.log_calls += 1
        if self.log_calls <= len(GARBAGE):
            body, content_type = GARBAGE[self.log_calls - 1]
            if self.log_calls == len(GARBAGE):
                self.garbage_served.set()
            return web.Response(body=body, content_type=content_type)
        if "cursor" in request.query:
            return web.json_response({"data": [], "next_cursor": "c1", "has_more": False})
        return web.Response(body=orjson.dumps(GOOD_PAGE), content_type="application/json")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[HostileUpstream, str]]:
    fake = HostileUpstream()
    app = web.Application()
    app.router.add_post("/oauth/token", fake.token)
    app.router.add_get("/api/v2/appeals", fake.appeals)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


@pytest.mark.usefixtures("_namespace_topics")
async def test_connector_survives_garbage_and_dead_letters_oversized_records(
    settings: Settings, topics: TopicCatalog, upstream: tuple[HostileUpstream, str]
) -> None:
    fake, base_url = upstream
    config = CitizenAppConfig(
        name="hostile-citizen",
        base_url=base_url,
        client_id="hub",
        client_secret=SecretStr(SECRETS[0]),
        poll_interval_s=0.2,
    )
    context = SourceContext.from_settings(
        settings, retry=RetryPolicy(attempts=2, initial_s=0.01, jitter_s=0), error_pause_s=0.05
    )
    source = CitizenAppSource(config, context)
    await source.start()
    try:
        await asyncio.wait_for(fake.garbage_served.wait(), 30)
        assert source.health().state is SourceState.RUNNING  # garbage did not stop it

        async def everything_committed() -> bool:
            raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
            dead = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
            return len(raw) >= 1 and len(dead) >= 2

        await eventually(everything_committed)
        assert source.health().state is SourceState.RUNNING
    finally:
        await source.stop()

    raw = await read_to_end(settings.kafka_bootstrap, topics.raw(Channel.CITIZEN_APP))
    assert [orjson.loads(r.value)["external_id"] for r in raw] == ["GOOD"]
    dead_records = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
    dead = {
        letter["external_id"]: letter for letter in (orjson.loads(r.value) for r in dead_records)
    }
    assert sorted(dead) == ["BROKEN", "HUGE"]
    assert dead["BROKEN"]["error"]["kind"] == "invalid_version"
    huge = dead["HUGE"]
    assert huge["error"]["kind"] == "record_too_large"
    assert "sha256" in huge["error"]["message"]
    assert huge["raw"].startswith('{"schema":"unionhub.raw/1"')  # the start of the envelope
    assert all(len(r.value) <= MAX_MESSAGE_BYTES for r in [*raw, *dead_records])
    assert fake.log_calls > len(GARBAGE)  # it went on polling after the garbage
