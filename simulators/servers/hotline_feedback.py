"""``hotline_12351``'s feedback endpoint: ``POST /hotline/open/api/v1/workorders/{no}/feedback``.

Signed as every call (the JSON body is not signed). ``{"code": 0}`` for a new
``feedback_id`` and again for one already taken; ``40401`` unknown order;
``40901`` order already 已办结 upstream; 42901, 50000 and dropped connections at
the fault rate (and ``drop_after``: taken, the answer lost). A taken feedback
gives the order its next ``update_time``, ``已办结`` with the ``handle_result``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from schemas.channels import Channel
from simulators.servers.replies import REPLY_FAULTS, Reply
from simulators.servers.state import drop_connection, json_response

if TYPE_CHECKING:
    from simulators.servers.hotline import Hotline

CHANNEL = Channel.HOTLINE_12351.value
FAULTS = ("code_42901", "code_50000", *REPLY_FAULTS)
DONE = "已办结"
MAX_TEXT = 4000


def business(code: int, msg: str, data: object = None) -> web.Response:
    """The open API's answer: HTTP 200, a business code."""
    return json_response({"code": code, "msg": msg, "data": data})


def _body(raw: bytes) -> dict[str, Any] | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("status") != DONE:
        return None
    for name in ("feedback_id", "handle_result"):
        value = body.get(name)
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
            return None
    return body


async def feedback(app: Hotline, request: web.Request) -> web.StreamResponse:
    """Take one feedback to one work order, at most once per ``feedback_id``."""
    if (refused := app.check_signature(request)) is not None:
        return refused
    state = app.state
    ledger = state.replies
    fault = state.faults.draw(CHANNEL, FAULTS)
    if fault == "code_42901":
        return business(42901, "请求过于频繁")
    if fault == "code_50000":
        return business(50000, "系统繁忙")
    if fault == "drop":
        return drop_connection(request)
    body = _body(await request.read())
    if body is None:
        ledger.answered(CHANNEL, "invalid")
        return business(40001, "参数错误")
    order_no = request.match_info["order_no"]
    key = body["feedback_id"]
    if ledger.seen(CHANNEL, order_no, key):
        ledger.answered(CHANNEL, "repeat")
        return _answer(request, fault, {"feedback_id": key, "order_no": order_no})
    latest = app.latest(order_no)
    if latest is None:
        ledger.answered(CHANNEL, "unknown")
        return business(40401, "工单不存在")
    if latest.record.get("status") == DONE and not ledger.by_reply(latest):
        ledger.answered(CHANNEL, "closed")
        return business(40901, "工单已办结")
    version = app.next_version(latest, {"status": DONE, "handle_result": body["handle_result"]})
    ledger.take(
        Reply(
            CHANNEL, order_no, key, "feedback", body["handle_result"], body["handle_result"],
            version.at, version.version,
        )
    )  # fmt: skip
    ledger.answered(CHANNEL, "taken")
    return _answer(request, fault, {"feedback_id": key, "order_no": order_no})


def _answer(request: web.Request, fault: str | None, data: dict[str, Any]) -> web.StreamResponse:
    if fault == "drop_after":
        return drop_connection(request)  # taken, but the client never hears it
    return business(0, "success", data)
