"""``petition_window``: API-key auth, hourly GBK CSV exports with revisions.

Routes under ``/petition``: ``GET /exports`` (listing) and ``GET /exports/{batch_id}.csv``.
A batch shows its latest published revision; a torn download (fault) serves
bytes that do not match the listing's sha256.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from schemas.channels import Channel
from simulators.scenario.generator import encode_csv, plain_cst
from simulators.scenario.model import Batch, BatchRevision
from simulators.servers.state import ServerState, drop_connection, json_response

PREFIX = "/petition"
FAULTS = ("http_5xx", "drop", "torn")
CHANNEL = Channel.PETITION_WINDOW.value


class PetitionWindow:
    """Serves the export listing and files of one scenario."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.batches = sorted(state.scenario.batches, key=lambda b: b.batch_id)
        self.by_id = {b.batch_id: b for b in self.batches}
        self._bytes: dict[tuple[str, int], bytes] = {}

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the simulator app."""
        return [
            web.get(PREFIX + "/exports", self.listing),
            web.get(PREFIX + "/exports/{name}", self.download),
        ]

    def file_bytes(self, batch: Batch, rev: BatchRevision) -> bytes:
        """The GBK file of one batch revision (cached)."""
        key = (batch.batch_id, rev.revision)
        if key not in self._bytes:
            self._bytes[key] = encode_csv(rev.rows)
        return self._bytes[key]

    def current(self, batch: Batch) -> BatchRevision | None:
        """The latest published revision of ``batch``, if any is published."""
        published = [r for r in batch.revisions if self.state.visible(r.visible_at)]
        return published[-1] if published else None

    def _authorised(self, request: web.Request) -> bool:
        key = request.headers.get("X-Api-Key", "")
        return hmac.compare_digest(key, self.state.credentials["petition_api_key"])

    def _fault(self, request: web.Request, kinds: tuple[str, ...]) -> web.StreamResponse | None:
        fault = self.state.faults.draw(CHANNEL, kinds)
        if fault == "http_5xx":
            return json_response({"error": "service unavailable"}, 503)
        if fault == "drop":
            return drop_connection(request)
        return None

    async def listing(self, request: web.Request) -> web.StreamResponse:
        """Published batches after ``after`` (plus earlier ones revised since)."""
        if not self._authorised(request):
            return json_response({"error": "forbidden"}, 403)
        if (failed := self._fault(request, FAULTS[:2])) is not None:
            return failed
        after = request.query.get("after")
        cutoff = None
        if after is not None and after in self.by_id:
            first = self.by_id[after].revisions[0]
            cutoff = first.visible_at
        out = []
        for batch in self.batches:
            rev = self.current(batch)
            if rev is None:
                continue
            if after is not None and batch.batch_id <= after:
                revised_since = rev.revision > 1 and (cutoff is None or rev.visible_at > cutoff)
                if not revised_since:
                    continue
            data = self.file_bytes(batch, rev)
            out.append(
                {
                    "batch_id": batch.batch_id,
                    "revision": rev.revision,
                    "rows": len(rev.rows),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "created_at": plain_cst(rev.created_at),
                }
            )
        return json_response(out)

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The current file of one batch, GBK-encoded."""
        if not self._authorised(request):
            return json_response({"error": "forbidden"}, 403)
        name = request.match_info["name"]
        batch = self.by_id.get(name.removesuffix(".csv")) if name.endswith(".csv") else None
        rev = self.current(batch) if batch is not None else None
        if batch is None or rev is None:
            return json_response({"error": "not found"}, 404)
        fault = self.state.faults.draw(CHANNEL, FAULTS)
        if fault == "http_5xx":
            return json_response({"error": "service unavailable"}, 503)
        if fault == "drop":
            return drop_connection(request)
        data = self.file_bytes(batch, rev)
        if batch.batch_id in self.state.torn_batches:
            self.state.faults.count(CHANNEL, "torn_for_good")
            fault = "torn"
        if fault == "torn":
            data = data[: max(1, len(data) * 2 // 3)]
        return web.Response(body=data, headers={"Content-Type": "text/csv; charset=GBK"})
