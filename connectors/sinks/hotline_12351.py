"""hotline_12351's reply sink: ``POST {base_url}/open/api/v1/workorders/{order_no}/feedback``.

Signed as every call, with the source's signing (:mod:`connectors.channels.hotline_api`;
the JSON body is not signed), resolved through the same business-code table
plus the feedback's own codes, over the same HTTP client and the upstream's
one rate budget. ``{"code": 0}`` is the upstream holding the feedback (also
for a ``feedback_id`` already taken); ``40401`` and ``40901`` are refusals for good.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson

from connectors.base import SourceContext
from connectors.channels.hotline_api import REPLY_CODES, check_answer, signed_url
from connectors.config import Hotline12351Config, SinkConfig
from connectors.errors import UpstreamRefusedError
from connectors.registry import register_sink
from connectors.sinks.base import ReplySink, refusal_answer
from connectors.sinks.tasks import ReplyTask
from connectors.upstream import HttpRequest
from schemas.channels import Channel

DONE = "已办结"


@register_sink(Channel.HOTLINE_12351)
class HotlineReplySink(ReplySink):
    """Feeds back to work orders, one ``feedback_id`` per (order, resolve or close)."""

    upstream: Hotline12351Config

    def __init__(
        self, config: SinkConfig, upstream: Hotline12351Config, context: SourceContext
    ) -> None:
        super().__init__(config, upstream, context)
        self.client = self.upstream_client(upstream)

    async def open(self) -> None:
        """Open the HTTP session."""
        await self.client.open()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.client.close()

    async def deliver(self, task: ReplyTask) -> None:
        """One feedback, signed afresh on every attempt, under the same ``feedback_id``."""
        path = f"/open/api/v1/workorders/{quote(task.external_id, safe='')}/feedback"
        body = orjson.dumps(
            {"feedback_id": task.key, "handle_result": task.words(), "status": DONE}
        )
        what = f"hotline_12351 POST {self.upstream.base_url}{path}"

        async def attempt() -> None:
            request = HttpRequest(
                signed_url(self.upstream, "POST", path),
                method="POST",
                headers={"Content-Type": "application/json"},
                data=body,
            )
            response = await self.client.send(request)
            try:
                check_answer(response, "hotline_12351 feedback", REPLY_CODES)
            except UpstreamRefusedError as exc:
                raise UpstreamRefusedError(
                    str(exc), answer=refusal_answer(response.status, response.body)
                ) from None

        await self.client.retrying(self.context.retry, attempt, what=what)
