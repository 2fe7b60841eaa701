"""``hotline_12351``: a signed open API (HTTP 200 always, business codes), offset paging.

Routes: ``GET /hotline/open/api/v1/workorders``, the feedback endpoint ``POST
/hotline/open/api/v1/workorders/{order_no}/feedback``
(:mod:`simulators.servers.hotline_feedback`) and ``GET /hotline/_sim/status``.
The signature covers the path as sent, so the ``/hotline`` prefix is part of
PATH. Orders are served in their current version; an order updated while a
client pages moves to a later window.
"""

from __future__ import annotations

import hmac
import time
from datetime import datetime, timedelta

from aiohttp import web

from schemas.channels import Channel
from simulators.scenario.clock import plain_cst
from simulators.scenario.generator import CST
from simulators.scenario.model import RecordVersion
from simulators.servers import hotline_feedback
from simulators.servers.auth import TIMESTAMP_WINDOW_MS, NonceRegistry, sign
from simulators.servers.replies import append_version, status_route, withdraw_unreleased
from simulators.servers.state import ServerState, json_response

PREFIX = "/hotline"
ROOT_PATH = "/open/api/v1/workorders"
PATH = PREFIX + ROOT_PATH
FAULTS = ("code_42901", "code_50000", "page_shift")
CHANNEL = Channel.HOTLINE_12351.value
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _business(code: int, msg: str) -> web.Response:
    return json_response({"code": code, "msg": msg, "data": None})


class Hotline:
    """Serves the work-order query of one scenario."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.nonces = NonceRegistry()
        self.orders: dict[str, list[RecordVersion]] = {}
        for v in state.scenario.versions:
            if v.channel == Channel.HOTLINE_12351:
                self.orders.setdefault(v.external_id, []).append(v)
        for versions in self.orders.values():
            versions.sort(key=lambda v: v.visible_at)

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the simulator app."""
        # Also at the root, so the spec's worked example (PATH without prefix) replays verbatim.
        return [
            web.get(PATH, self.workorders),
            web.get(ROOT_PATH, self.workorders),
            web.post(PATH + "/{order_no}/feedback", self.feedback),
            status_route(self.state, PREFIX, CHANNEL),
        ]

    async def feedback(self, request: web.Request) -> web.StreamResponse:
        """``POST .../workorders/{order_no}/feedback`` (see :mod:`hotline_feedback`)."""
        return await hotline_feedback.feedback(self, request)

    def latest(self, order_no: str) -> RecordVersion | None:
        """The order's version served now, if any."""
        current = None
        for v in self.orders.get(order_no, []):
            if not self.state.visible(v.visible_at):
                break
            current = v
        return current

    def next_version(self, latest: RecordVersion, changes: dict[str, str]) -> RecordVersion:
        """The order's next version with ``changes``, now (one second after the last at
        least); its unreleased versions are withdrawn."""
        now = self.state.now().replace(microsecond=0)
        at = max(now, latest.at.replace(microsecond=0) + timedelta(seconds=1))
        label = plain_cst(at)
        record = latest.record | changes | {"update_time": label}
        withdraw_unreleased(self.state, CHANNEL, latest.external_id)
        version = append_version(self.state, latest, record, label, at)
        served = [v for v in self.orders[latest.external_id] if self.state.visible(v.visible_at)]
        self.orders[latest.external_id] = [*served, version]
        return version

    def close_upstream(self, order_no: str) -> RecordVersion | None:
        """The hotline closes the order itself (已办结); None if unknown."""
        latest = self.latest(order_no)
        if latest is None:
            return None
        changes = {"status": hotline_feedback.DONE, "handle_result": "热线坐席已办结"}
        return self.next_version(latest, changes)

    def _current(self) -> list[RecordVersion]:
        out = []
        for versions in self.orders.values():
            current = None
            for v in versions:
                if not self.state.visible(v.visible_at):
                    break
                current = v
            if current is not None:
                out.append(current)
        return out

    def check_signature(self, request: web.Request) -> web.Response | None:
        """The business error a badly signed request gets, None when the signature holds."""
        return self._check_signature(request)

    def _check_signature(self, request: web.Request) -> web.Response | None:
        q = request.query
        creds = self.state.credentials
        required = ("app_key", "timestamp", "nonce", "sign")
        if any(k not in q for k in required) or q["app_key"] != creds["hotline_app_key"]:
            return _business(40101, "签名错误")
        expected = sign(
            creds["hotline_app_secret"], request.method, request.rel_url.raw_path, q.items()
        )
        if not hmac.compare_digest(expected, q["sign"]):
            return _business(40101, "签名错误")
        try:
            stamp = int(q["timestamp"])
        except ValueError:
            return _business(40101, "签名错误")
        if abs(time.time() * 1000 - stamp) > TIMESTAMP_WINDOW_MS:
            return _business(40102, "时间戳过期")
        if not self.nonces.use(q["nonce"]):
            return _business(40103, "重复请求")
        return None

    async def workorders(self, request: web.Request) -> web.StreamResponse:
        """Orders whose current update_time lies in [start_time, end_time), one page."""
        if (refused := self._check_signature(request)) is not None:
            return refused
        fault = self.state.faults.draw(CHANNEL, FAULTS)
        if fault == "code_42901":
            return _business(42901, "请求过于频繁")
        if fault == "code_50000":
            return _business(50000, "系统繁忙")
        q = request.query
        try:
            start = datetime.strptime(q["start_time"], TIME_FORMAT).replace(tzinfo=CST)
            end = datetime.strptime(q["end_time"], TIME_FORMAT).replace(tzinfo=CST)
            page_no = int(q.get("page_no", "1"))
            page_size = int(q.get("page_size", "50"))
        except (KeyError, ValueError):
            return _business(40001, "参数错误")
        if not (start < end <= start + timedelta(hours=24)) or page_no < 1:
            return _business(40001, "参数错误")
        if not 1 <= page_size <= 100:
            return _business(40001, "参数错误")
        rows = sorted(
            (v for v in self._current() if start <= v.at < end),
            key=lambda v: (v.at, v.external_id),
        )
        offset = (page_no - 1) * page_size
        if fault == "page_shift" and offset > 0:
            offset -= 1  # an order moved under the pager: one row is served twice
        page = rows[offset : offset + page_size]
        return json_response(
            {
                "code": 0,
                "msg": "success",
                "data": {
                    "total": len(rows),
                    "page_no": page_no,
                    "page_size": page_size,
                    "list": [v.record for v in page],
                },
            }
        )
