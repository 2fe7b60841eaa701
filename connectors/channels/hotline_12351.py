"""hotline_12351: signed open API, business codes, update-time windows re-read over a lookback.

Offset paging over live data can skip an order that moves while we page, so
every pass re-reads from ``lookback_s`` before the point the previous pass
completed. State (checkpoint key = connector name): that point (the
watermark, local time) and the version ledger (order -> ``update_time``
written) covering the re-read horizon, so re-read orders are not written twice.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, cast

from connectors.base import SourceContext
from connectors.channels.common import Invalid, dumps, json_body, now_local, parse_local
from connectors.channels.hotline_api import BUSINESS_CODES, TABLE, check_answer, signed_url
from connectors.config import ConnectorConfig, Hotline12351Config
from connectors.errors import MalformedResponseError
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page
from connectors.intake import Batch
from connectors.ledger import WatermarkState, newer_text
from connectors.registry import register
from schemas.channels import Channel
from schemas.raw import RawEnvelope, utc_now

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PATH = "/open/api/v1/workorders"
PAGE_SIZE = 100  # the API's maximum
MAX_WINDOW = timedelta(hours=24)  # the API's widest window
LEDGER_MARGIN = timedelta(minutes=5)
MAX_REREADS = 3  # re-reads of a window whose total changed while paging


def windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows at most 24 h wide."""
    result = []
    while start < end:
        stop = min(start + MAX_WINDOW, end)
        result.append((start, stop))
        start = stop
    return result


@register(Channel.HOTLINE_12351)
class HotlineSource(HttpPollingSource):
    """Pages through update-time windows; each page is one transaction."""

    table = TABLE
    config: Hotline12351Config

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.state = WatermarkState(newer_text)

    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Adopt the committed checkpoint."""
        self.state = WatermarkState.from_json(newer_text, states.get(self.name))

    async def start_requests(self) -> list[HttpRequest]:
        """Windows from ``lookback_s`` before the watermark (or the backfill start) to now."""
        end = now_local().replace(microsecond=0)
        watermark = parse_local(self.state.watermark, TIME_FORMAT)
        if watermark is None:
            start = end - timedelta(seconds=self.config.backfill_s)
        else:
            start = min(watermark, end) - timedelta(seconds=self.config.lookback_s)
        return [self._page(a, b, 1) for a, b in windows(start, end)]

    def _page(
        self,
        start: datetime,
        end: datetime,
        page_no: int,
        first_total: int | None = None,
        rereads: int = 0,
    ) -> HttpRequest:
        return HttpRequest(
            self.config.base_url + PATH,
            context={
                "start_time": start.strftime(TIME_FORMAT),
                "end_time": end.strftime(TIME_FORMAT),
                "page_no": page_no,
                "first_total": first_total,
                "rereads": rereads,
            },
        )

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """Sign the request afresh (new timestamp and nonce on every attempt)."""
        params = {
            "start_time": str(request.context["start_time"]),
            "end_time": str(request.context["end_time"]),
            "page_no": str(request.context["page_no"]),
            "page_size": str(PAGE_SIZE),
        }
        url = signed_url(self.config, request.method, PATH, params)
        return HttpRequest(url, request.method, context=request.context)

    def check(self, request: HttpRequest, response: HttpResponse) -> None:
        """HTTP status first, then the business code of the body."""
        check_answer(response, "hotline_12351 workorders", BUSINESS_CODES)

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """New order versions become records; the last page of a window moves the watermark."""
        body = json_body(response.body, "hotline_12351 workorders")
        data = body.get("data") if isinstance(body, dict) else None
        orders = data.get("list") if isinstance(data, dict) else None
        total = data.get("total") if isinstance(data, dict) else None
        if not isinstance(orders, list) or not isinstance(total, int):
            raise MalformedResponseError("hotline_12351 workorders: no data.list/total")
        state = self.state.copy()
        batch = Batch()
        fetched_at = utc_now()
        page_no: int = request.context["page_no"]
        source = (
            f"{self.config.base_url}{PATH} [{request.context['start_time']}, "
            f"{request.context['end_time']}) page {page_no}"
        )
        for item in orders:
            invalid, external_id, updated = _validate(item)
            if invalid is not None or updated is None or external_id is None:
                invalid = invalid or Invalid("malformed", "unreadable work order")
                if not state.dead.first_time(dumps(item), fetched_at.timestamp()):
                    continue  # dead-lettered on an earlier pass over this window
                batch.dead_letters.append(
                    self.dead_letter(invalid.kind, invalid.reason, dumps(item), source, external_id)
                )
                continue
            order = cast(dict[str, Any], item)
            version = str(order["update_time"])
            if not state.ledger.is_new(external_id, version):
                continue
            state.ledger.record(external_id, version, updated.timestamp())
            batch.records.append(
                RawEnvelope(
                    channel=Channel.HOTLINE_12351,
                    connector=self.name,
                    external_id=external_id,
                    version=version,
                    fetched_at=fetched_at,
                    source=source,
                    record=order,
                )
            )
        follow = []
        start = parse_local(request.context["start_time"], TIME_FORMAT)
        end = parse_local(request.context["end_time"], TIME_FORMAT)
        first_total = request.context["first_total"] if page_no > 1 else total
        rereads: int = request.context["rereads"]
        if start is None or end is None:
            raise MalformedResponseError("hotline_12351: window lost its bounds")  # unreachable
        if orders and page_no * PAGE_SIZE < total:
            follow.append(self._page(start, end, page_no + 1, first_total, rereads))
        elif total != first_total and rereads < MAX_REREADS:
            # Orders moved while we paged, shifting offsets: read the window once more.
            follow.append(self._page(start, end, 1, None, rereads + 1))
        else:
            window_end = str(request.context["end_time"])
            if state.watermark is None or window_end > state.watermark:
                state.watermark = window_end
        watermark = parse_local(state.watermark, TIME_FORMAT)
        if watermark is not None:
            horizon = watermark - timedelta(seconds=self.config.lookback_s) - LEDGER_MARGIN
            state.ledger.prune(horizon.timestamp())
            # Fingerprints are kept by when they were seen: a day outlasts any re-read.
            state.dead.prune(time.time() - 86400 - self.config.lookback_s)
        if batch.records or batch.dead_letters or state.watermark != self.state.watermark:
            batch.checkpoints[self.name] = state.to_json()

        def adopt() -> None:
            self.state = state

        return Page(batch=batch, follow=follow, adopt=adopt)


def _validate(item: object) -> tuple[Invalid | None, str | None, datetime | None]:
    """(why it is malformed or None, its order_no if readable, its update time)."""
    if not isinstance(item, dict):
        return Invalid("not_an_object", "work order is not a JSON object"), None, None
    order_no = item.get("order_no")
    if not isinstance(order_no, str) or not order_no:
        return Invalid("missing_id", "order_no missing or not a string"), None, None
    updated = parse_local(item.get("update_time"), TIME_FORMAT)
    if updated is None:
        reason = "update_time is not YYYY-MM-DD HH:MM:SS"
        return Invalid("invalid_timestamp", reason), order_no, None
    return None, order_no, updated
