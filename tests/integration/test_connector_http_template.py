"""The HTTP-polling template end to end, against a small citizen_app stand-in in the test.

Token refresh on 401, 429 and 503 retried, a 410 recovered through a
percent-encoded ``since``, a malformed appeal dead-lettered, and after a
restart nothing written twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from connectors.base import SourceContext, SourceState
from connectors.config import CitizenAppConfig
from connectors.registry import build_source
from connectors.retry import RetryPolicy
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import eventually, read_to_end

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


@dataclass
class FakeCitizenApp:
    """Just enough of channels.md's citizen_app contract, with switchable faults."""

    changes: list[Any] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    expire_token_once: bool = False
    rate_limit_once: bool = False
    fail_once: bool = False
    issued_cursors: list[str] = field(default_factory=list)
    expired_cursors: set[str] = field(default_factory=set)
    since_seen: list[str] = field(default_factory=list)
    served: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get("/api/v2/appeals", self.appeals)
        return app

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != "hub" or form.get("client_secret") != "s3cret-value":
            return web.json_response({"error": "invalid_client"}, status=401)
        self.issued += 1
        token = f"token-{self.issued}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 600})

    async def appeals(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.expire_token_once:
            self.expire_token_once = False
            self.tokens.discard(token)
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.rate_limit_once:
            self.rate_limit_once = False
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": "0"}
            )
        if self.fail_once:
            self.fail_once = False
            return web.json_response({"error": "boom"}, status=503)
        limit = int(request.query.get("limit", "50"))
        if "cursor" in request.query:
            if request.query["cursor"] in self.expired_cursors:
                return web.json_response({"error": "cursor_expired"}, status=410)
            start = int(request.query["cursor"].removeprefix("c").split("-")[0])
        elif "since" in request.query:
            since = request.query["since"]
            if " " in since:  # a raw '+' arrived as a space
                return web.json_response({"error": "bad since"}, status=400)
            self.since_seen.append(since)
            start = next(
                (
                    i
                    for i, c in enumerate(self.changes)
                    if isinstance(c, dict) and c.get("updated_at", "") >= since
                ),
                len(self.changes),
            )
        else:
            start = 0
        page = self.changes[start : start + limit]
        self.served.update(str(item.get("appeal_id")) for item in page)
        end = start + len(page)
        cursor = f"c{end}-{len(self.issued_cursors)}"
        self.issued_cursors.append(cursor)
        return web.json_response(
            {"data": page, "next_cursor": cursor, "has_more": end < len(self.changes)}
        )

    def expire_issued_cursors(self) -> None:
        """Every cursor handed out so far answers 410 from now on (as after 24 h)."""
        self.expired_cursors.update(self.issued_cursors)


def appeal(n: int, version: int, minute: int) -> dict[str, Any]:
    return {
        "appeal_id": f"MY2025052300{n:05d}",
        "version": version,
        "submitted_at": "2025-05-23T14:05:09+08:00",
        "updated_at": f"2025-05-23T15:{minute:02d}:00+08:00",
        "title": "欠薪",
        "content": "联系 13812345678",
        "category_code": "LAB-WAGE",
        "appellant": {"name": "陈望", "mobile": "13812345678", "id_no": None},
        "status": "submitted",
    }


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeCitizenApp, str]]:
    upstream = FakeCitizenApp()
    runner = web.AppRunner(upstream.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield upstream, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def context(settings: Settings) -> SourceContext:
    return SourceContext.from_settings(
        settings, retry=RetryPolicy(attempts=5, initial_s=0.01, jitter_s=0.01), error_pause_s=0.05
    )


async def raw_versions(settings: Settings, topics: TopicCatalog) -> list[tuple[str, str]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.raw("citizen_app"))
    return [
        (orjson.loads(r.value)["external_id"], orjson.loads(r.value)["version"]) for r in records
    ]


async def test_citizen_app_template_exactly_once_through_faults_and_restart(
    settings: Settings, topics: TopicCatalog, fake: tuple[FakeCitizenApp, str]
) -> None:
    upstream, base_url = fake
    upstream.changes = [appeal(n, 1, n) for n in range(7)]
    # Broken, and at the last update time: the since= re-read after a 410 serves it again.
    broken = {
        "appeal_id": "MY-BROKEN",
        "version": "three",
        "updated_at": "2025-05-23T15:30:00+08:00",
    }
    upstream.changes.insert(3, broken)
    upstream.changes.append(appeal(2, 2, 30))
    upstream.expire_token_once = upstream.rate_limit_once = upstream.fail_once = True
    config = CitizenAppConfig(
        name="citizen",
        base_url=base_url,
        client_id="hub",
        client_secret=SecretStr("s3cret-value"),
        page_size=3,
        poll_interval_s=0.05,
    )
    expected = {(f"MY2025052300{n:05d}", "1") for n in range(7)} | {("MY202505230000002", "2")}

    source = build_source(config, context(settings))
    await source.start()

    async def first_part_written() -> bool:
        return set(await raw_versions(settings, topics)) == expected

    await eventually(first_part_written)
    await source.stop()
    assert upstream.issued == 2  # the refused token was replaced

    # More changes arrive; the stored cursor has expired meanwhile.
    upstream.changes += [appeal(7, 1, 40), appeal(0, 2, 41)]
    upstream.expire_issued_cursors()
    expected |= {("MY202505230000007", "1"), ("MY202505230000000", "2")}
    restarted = build_source(config, context(settings))
    await restarted.start()

    async def everything_written() -> bool:
        return set(await raw_versions(settings, topics)) == expected

    await eventually(everything_written)
    await restarted.stop()
    assert restarted.health().state is SourceState.STOPPED

    versions = await raw_versions(settings, topics)
    assert sorted(versions) == sorted(expected)  # each version exactly once
    assert upstream.since_seen
    assert upstream.since_seen[0] == "2025-05-23T15:30:00+08:00"
    dead = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
    assert upstream.served["MY-BROKEN"] >= 2  # the re-read served it again...
    assert len(dead) == 1  # ...and it was dead-lettered once
    letter = orjson.loads(dead[0].value)
    assert letter["external_id"] == "MY-BROKEN"
    assert "version" in letter["error"]["message"]


async def test_refused_client_credentials_fail_the_connector_without_looping(
    settings: Settings, topics: TopicCatalog, fake: tuple[FakeCitizenApp, str]
) -> None:
    upstream, base_url = fake
    config = CitizenAppConfig(
        name="citizen",
        base_url=base_url,
        client_id="hub",
        client_secret=SecretStr("wrong-secret"),
        poll_interval_s=0.05,
    )
    source = build_source(config, context(settings))
    await source.start()
    await source.wait()
    health = source.health()
    assert health.state is SourceState.FAILED
    assert health.last_error is not None
    assert "client credentials refused" in health.last_error
    assert "wrong-secret" not in health.last_error
    assert upstream.issued == 0
