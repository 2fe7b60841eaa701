"""Channel edge cases the scenario cannot force, against small upstream stand-ins in the test.

petition_window batch revisions (only changed rows are new versions) and a
batch whose checksum never matches; provincial_petition TOO_MANY splitting,
late arrivals and corrections within the late-arrival horizon; hotline_12351
40101 as a configuration error and the lookback re-read of a skipped order.
Polls are driven one at a time (``poll_once``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from connectors.base import PollingSource, SourceContext, SourceState
from connectors.channels.common import CST, now_local
from connectors.channels.hotline_signing import sign
from connectors.channels.petition_csv import HEADER
from connectors.channels.petition_window import TORN_POLLS
from connectors.config import (
    Hotline12351Config,
    PetitionWindowConfig,
    ProvincialPetitionConfig,
)
from connectors.errors import TornDownloadError
from connectors.registry import build_source
from connectors.retry import RetryPolicy
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.channels import Channel
from tests.integration.test_connector_support import wait_for_partitions
from tests.kafka_helpers import read_to_end

pytestmark = pytest.mark.integration

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
async def _namespace_topics(settings: Settings, topics: TopicCatalog) -> None:
    """The catalogue's partitions visible to clients (the settings fixture drops them after)."""
    await wait_for_partitions(settings, *(spec.name for spec in topics.specs()))


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[str, Handler], Awaitable[str]]]:
    """Serve one handler on a free port; returns the base URL."""
    runners: list[web.AppRunner] = []

    async def start(path: str, handler: Handler) -> str:
        app = web.Application()
        app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    yield start
    for runner in runners:
        await runner.cleanup()


def context(settings: Settings) -> SourceContext:
    return SourceContext.from_settings(
        settings, retry=RetryPolicy(attempts=3, initial_s=0.01, jitter_s=0), error_pause_s=0.05
    )


async def started(source: PollingSource) -> PollingSource:
    await source.writer.start()
    await source.restore()
    await source.open()
    return source


async def finished(source: PollingSource) -> None:
    await source.close()
    await source.writer.close()


async def versions_of(
    settings: Settings, topics: TopicCatalog, channel: Channel
) -> list[tuple[str, str]]:
    return [(r["external_id"], r["version"]) for r in await raw(settings, topics, channel)]


async def raw(settings: Settings, topics: TopicCatalog, channel: Channel) -> list[dict[str, Any]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.raw(channel))
    return [orjson.loads(r.value) for r in records]


async def dead(settings: Settings, topics: TopicCatalog) -> list[dict[str, Any]]:
    records = await read_to_end(settings.kafka_bootstrap, topics.intake_dlq)
    return [orjson.loads(r.value) for r in records]


# -- petition_window ---------------------------------------------------------------------


def row(number: str, content: str) -> list[str]:
    return [number, "2025/05/23 14:05", "陈望", "13812345678", "", "某厂", "", "南山区",
            "拖欠工资", content, "1", "李"]  # fmt: skip


def export(*rows: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("gbk")


async def test_petition_revisions_write_only_changed_rows_and_torn_batches_die_whole(
    settings: Settings, topics: TopicCatalog, serve: Callable[[str, Handler], Awaitable[str]]
) -> None:
    files: dict[str, tuple[int, bytes, bool]] = {}  # batch -> (revision, bytes, torn)
    listings: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-Api-Key") != "petition-key":
            return web.json_response({"error": "forbidden"}, status=403)
        tail = request.match_info["tail"]
        if tail == "exports":
            listings.append(request.query.get("after"))
            return web.json_response(
                [
                    {
                        "batch_id": b,
                        "revision": r,
                        "rows": 0,
                        "created_at": "",
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                    for b, (r, data, _) in sorted(files.items())
                ]
            )
        _revision, data, torn = files[tail.removeprefix("exports/").removesuffix(".csv")]
        return web.Response(body=data[: len(data) // 2] if torn else data)

    base_url = await serve("/api/{tail:.+}", handler)
    broken = row("XF-3", "x")[:5]
    files["20250523-14"] = (1, export(row("XF-1", "欠薪"), row("XF-2", "工伤"), broken), False)
    config = PetitionWindowConfig(
        name="petition", base_url=base_url + "/api", api_key=SecretStr("petition-key")
    )
    source = await started(build_source(config, context(settings)))
    try:
        await source.poll_once()
        files["20250523-14"] = (
            2,
            export(row("XF-1", "欠薪已部分支付"), row("XF-2", "工伤"), broken, row("XF-4", "社保")),
            False,
        )
        await source.poll_once()
        await source.poll_once()  # nothing new: nothing written
        files["20250523-15"] = (1, export(row("XF-5", "加班")), True)
        for _ in range(TORN_POLLS - 1):  # torn in one poll may be a revision racing the listing
            with pytest.raises(TornDownloadError):
                await source.poll_once()
        await source.poll_once()
    finally:
        await finished(source)

    versions = [
        (r["external_id"], r["version"])
        for r in await raw(settings, topics, Channel.PETITION_WINDOW)
    ]
    assert sorted(versions) == [
        ("XF-1", "20250523-14#1"),
        ("XF-1", "20250523-14#2"),  # changed in the revision
        ("XF-2", "20250523-14#1"),  # unchanged in the revision: not written again
        ("XF-4", "20250523-14#2"),  # new in the revision
    ]
    letters = await dead(settings, topics)
    assert [(d["external_id"], d["error"]["kind"]) for d in letters] == [
        ("XF-3", "csv_wrong_cell_count"),  # once, although revision 2 repeats it
        (None, "checksum_mismatch"),  # the batch that never matched, kept whole
    ]
    assert letters[1]["raw_encoding"] == "base64"
    assert "20250523-15" in letters[1]["source"]
    # after= the last batch processed
    assert listings == [None] + ["20250523-14"] * (2 + TORN_POLLS)
    assert source.state.after == "20250523-15"  # type: ignore[attr-defined]


# -- provincial_petition -----------------------------------------------------------------

NS = "http://xf.gd.gov.cn/schema/petition/1.0"
TIME = "%Y-%m-%dT%H:%M:%S"


def petition_xml(xfjbh: str, bbh: int, registered: datetime) -> str:
    return (
        f"<xf:Petition><xf:XFJBH>{xfjbh}</xf:XFJBH><xf:BBH>{bbh}</xf:BBH>"
        f"<xf:DJSJ>{registered.strftime(TIME)}</xf:DJSJ>"
        f"<xf:XFR><xf:XM>陈望</xf:XM><xf:LXDH>13812345678</xf:LXDH></xf:XFR>"
        f"<xf:XFMD><![CDATA[欠薪 <三个月>]]></xf:XFMD></xf:Petition>"
    )


async def test_provincial_splits_too_many_and_rereads_windows_until_final(
    settings: Settings, topics: TopicCatalog, serve: Callable[[str, Handler], Awaitable[str]]
) -> None:
    now = now_local().replace(microsecond=0)
    petitions: dict[str, tuple[int, datetime]] = {
        f"P{i}": (1, now - timedelta(minutes=30) - timedelta(seconds=i)) for i in range(5)
    }
    petitions["OLD"] = (1, now - timedelta(hours=5))
    too_many_answers: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != "Basic dW5pb25odWI6cHctc2VjcmV0":
            return web.Response(status=401)
        start = datetime.strptime(request.query["from"], TIME).replace(tzinfo=CST)
        end = datetime.strptime(request.query["to"], TIME).replace(tzinfo=CST)
        found = [(k, v) for k, v in sorted(petitions.items()) if start <= v[1] < end]
        if len(found) > 2:  # this stand-in's limit
            too_many_answers.append(request.query["from"])
            body = f'<xf:Error xmlns:xf="{NS}" code="TOO_MANY" limit="2"/>'
        else:
            inner = "".join(petition_xml(k, bbh, at) for k, (bbh, at) in found)
            body = f'<?xml version="1.0"?><xf:QueryResult xmlns:xf="{NS}">{inner}</xf:QueryResult>'
        return web.Response(body=body.encode(), content_type="application/xml")

    base_url = await serve("/xf/ws/petitions", handler)
    config = ProvincialPetitionConfig(
        name="provincial",
        base_url=base_url,
        username="unionhub",
        password=SecretStr("pw-secret"),
        backfill_s=6 * 3600,
    )
    source = await started(build_source(config, context(settings)))
    try:
        await source.poll_once()
        assert too_many_answers  # the window was split
        petitions["LATE"] = (1, now - timedelta(minutes=90))  # arrives late
        petitions["P0"] = (2, petitions["P0"][1])  # corrected within the horizon
        await source.poll_once()
        await source.poll_once()  # nothing new
    finally:
        await finished(source)

    versions = sorted(
        (r["external_id"], r["version"])
        for r in await raw(settings, topics, Channel.PROVINCIAL_PETITION)
    )
    assert versions == sorted(
        [("OLD", "1"), ("LATE", "1"), ("P0", "1"), ("P0", "2")]
        + [(f"P{i}", "1") for i in range(1, 5)]
    )
    state = source.state  # type: ignore[attr-defined]
    final_until = datetime.strptime(state.watermark, TIME).replace(tzinfo=CST)
    assert now - timedelta(hours=3) <= final_until <= now - timedelta(hours=2)


# -- hotline_12351 -----------------------------------------------------------------------


def order(order_no: str, updated: datetime) -> dict[str, Any]:
    return {"order_no": order_no, "update_time": updated.strftime("%Y-%m-%d %H:%M:%S"),
            "caller_phone": "13812345678", "content": "欠薪", "status": "待派单"}  # fmt: skip


async def test_hotline_rereads_the_lookback_and_treats_40101_as_configuration(
    settings: Settings, topics: TopicCatalog, serve: Callable[[str, Handler], Awaitable[str]]
) -> None:
    now = now_local().replace(microsecond=0)
    orders = {
        "GD-1": order("GD-1", now - timedelta(minutes=5)),
        "GD-2": order("GD-2", now - timedelta(minutes=4)),
    }
    hidden = {"GD-2"}  # skipped on the first pass, as offset paging over live data can
    requests: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        requests.append(request.query["start_time"])
        params = dict(request.query.items())
        expected = sign("hotline-secret", "GET", request.path, params)
        if params.get("sign") != expected:
            return web.json_response({"code": 40101, "msg": "签名错误", "data": None})
        start, end = request.query["start_time"], request.query["end_time"]
        found = [
            o for k, o in orders.items() if k not in hidden and start <= o["update_time"] < end
        ]
        data = {"total": len(found), "page_no": 1, "page_size": 100, "list": found}
        return web.json_response({"code": 0, "msg": "success", "data": data})

    base_url = await serve("/gw/open/api/v1/workorders", handler)
    config = Hotline12351Config(
        name="hotline",
        base_url=base_url + "/gw",  # a path prefix is part of the signed PATH
        app_key="hub",
        app_secret=SecretStr("hotline-secret"),
        backfill_s=3600,
    )
    source = await started(build_source(config, context(settings)))
    try:
        await source.poll_once()
        hidden.clear()
        await source.poll_once()  # the lookback re-reads GD-1 (not again) and finds GD-2
        await source.poll_once()
    finally:
        await finished(source)
    versions = [
        (r["external_id"], r["version"]) for r in await raw(settings, topics, Channel.HOTLINE_12351)
    ]
    assert sorted(versions) == [
        ("GD-1", orders["GD-1"]["update_time"]),
        ("GD-2", orders["GD-2"]["update_time"]),
    ]

    wrong = Hotline12351Config(
        name="hotline-wrong",
        base_url=base_url + "/gw",
        app_key="hub",
        app_secret=SecretStr("not-the-secret"),
        poll_interval_s=0.01,
    )
    before = len(requests)
    failing = build_source(wrong, context(settings))
    await failing.start()
    await failing.wait()
    health = failing.health()
    assert health.state is SourceState.FAILED
    assert health.last_error is not None
    assert "40101" in health.last_error
    assert len(requests) == before + 1  # refused once, never retried in a loop
