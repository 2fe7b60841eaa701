"""citizen_app's reply sink: ``POST {base_url}/api/v2/appeals/{appeal_id}/replies``.

The same OAuth2 client credentials, bearer handling and resolution table as
the source (:mod:`connectors.channels.citizen_api`), the same HTTP client and
the upstream's one rate budget. ``201`` (new) and ``200`` (``reply_id``
already taken) are both the upstream holding the reply; ``404`` and ``409``
are refusals for good.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson

from connectors.base import SourceContext
from connectors.channels.citizen_api import REPLY_TABLE, CitizenAuth
from connectors.config import CitizenAppConfig, SinkConfig
from connectors.errors import UpstreamRefusedError
from connectors.registry import register_sink
from connectors.sinks.base import ReplySink, refusal_answer
from connectors.sinks.tasks import ReplyTask
from connectors.upstream import HttpRequest
from schemas.channels import Channel


@register_sink(Channel.CITIZEN_APP)
class CitizenReplySink(ReplySink):
    """Replies to appeals, one ``reply_id`` per (appeal, resolve or close)."""

    upstream: CitizenAppConfig

    def __init__(
        self, config: SinkConfig, upstream: CitizenAppConfig, context: SourceContext
    ) -> None:
        super().__init__(config, upstream, context)
        self.client = self.upstream_client(upstream)
        self.auth = CitizenAuth(upstream, self.client)

    async def open(self) -> None:
        """Open the HTTP session."""
        await self.client.open()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.client.close()

    async def deliver(self, task: ReplyTask) -> None:
        """One reply; the same ``reply_id`` on every attempt and after any crash."""
        body = {
            "reply_id": task.key,
            "kind": task.transition.kind,
            "result": task.transition.result,
            "text": task.words(),
            "replied_at": task.transition.at.isoformat(),
        }
        request = HttpRequest(
            f"{self.upstream.base_url}/api/v2/appeals/{quote(task.external_id, safe='')}/replies",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=orjson.dumps(body),
        )

        async def attempt() -> None:
            response = await self.client.send(await self.auth.authorize(request))
            try:
                self.auth.check(REPLY_TABLE, response)
            except UpstreamRefusedError as exc:
                raise UpstreamRefusedError(
                    str(exc), answer=refusal_answer(response.status, response.body)
                ) from None

        await self.client.retrying(self.context.retry, attempt, what=self.client.describe(request))
