"""petition_window: hourly GBK CSV batches with revisions, checksums and row-level dead letters.

State (checkpoint key = connector name): the last batch processed (the
listing's ``after``), the revision processed of every recent batch, the
content fingerprint of every recent registration (so an unchanged row in a
later revision is not written again, a changed one is) and the fingerprints
of rows already dead-lettered (so a revision does not dead-letter them twice).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from connectors.base import SourceContext
from connectors.channels.common import json_body, now_local, query
from connectors.channels.petition_csv import CsvHeaderError, parse_export
from connectors.config import ConnectorConfig, PetitionWindowConfig
from connectors.errors import MalformedResponseError, TornDownloadError, TransientUpstreamError
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page
from connectors.intake import Batch
from connectors.ledger import VersionLedger, different
from connectors.registry import register
from connectors.resolution import ResolutionTable
from schemas.channels import Channel
from schemas.raw import RawEnvelope, utc_now

# How long after processing a batch its revisions are recognised; older state is
# pruned so the checkpoint stays small. A later correction is written again whole.
REVISION_HORIZON = timedelta(days=7)
# A mismatch in one poll may be a revision published between listing and download;
# only a batch that stays inconsistent over this many polls is dead-lettered whole.
TORN_POLLS = 3

TABLE = ResolutionTable("petition_window")


@dataclass
class PetitionState:
    """Listing position, processed revisions, row fingerprints, dead-lettered rows."""

    after: str | None = None
    revisions: dict[str, int] = field(default_factory=dict)
    processed_at: dict[str, float] = field(default_factory=dict)  # batch -> epoch s
    ledger: VersionLedger = field(default_factory=lambda: VersionLedger(different))
    dead: dict[str, list[str]] = field(default_factory=dict)

    def copy(self) -> PetitionState:
        """An independent copy to change before a commit."""
        return PetitionState(
            self.after,
            dict(self.revisions),
            dict(self.processed_at),
            self.ledger.copy(),
            {k: list(v) for k, v in self.dead.items()},
        )

    def to_json(self) -> dict[str, Any]:
        """Checkpoint form."""
        return {
            "after": self.after,
            "revisions": self.revisions,
            "processed_at": self.processed_at,
            "ledger": self.ledger.to_json(),
            "dead": self.dead,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PetitionState:
        """From a checkpoint (fresh for None)."""
        if not data:
            return cls()
        return cls(
            data.get("after"),
            {str(k): int(v) for k, v in (data.get("revisions") or {}).items()},
            {str(k): float(v) for k, v in (data.get("processed_at") or {}).items()},
            VersionLedger.from_json(different, data.get("ledger")),
            {str(k): list(v) for k, v in (data.get("dead") or {}).items()},
        )

    def prune(self, horizon_ts: float) -> None:
        """Forget batches and rows older than ``horizon_ts`` (epoch seconds)."""
        self.ledger.prune(horizon_ts)
        keep = {b for b, at in self.processed_at.items() if at >= horizon_ts}
        keep.add(self.after or "")
        self.revisions = {b: r for b, r in self.revisions.items() if b in keep}
        self.processed_at = {b: at for b, at in self.processed_at.items() if b in keep}
        self.dead = {b: v for b, v in self.dead.items() if b in keep}


@register(Channel.PETITION_WINDOW)
class PetitionWindowSource(HttpPollingSource):
    """Lists batches, fetches every new batch or revision, writes each in one transaction."""

    table = TABLE
    config: PetitionWindowConfig

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.state = PetitionState()
        self._torn: dict[str, bytes] = {}  # last torn body per URL, kept for the dead letter
        self._torn_polls: dict[tuple[str, int], int] = {}  # polls that ended torn, per revision

    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Adopt the committed checkpoint."""
        self.state = PetitionState.from_json(states.get(self.name))

    async def start_requests(self) -> list[HttpRequest]:
        """The listing after the last batch processed (all retained batches at first)."""
        params: dict[str, str | int] = {"after": self.state.after} if self.state.after else {}
        suffix = f"?{query(params)}" if params else ""
        return [HttpRequest(f"{self.config.base_url}/exports{suffix}", context={"kind": "list"})]

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """Add the API key."""
        return request.with_headers(**{"X-Api-Key": self.config.api_key.get_secret_value()})

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """A listing yields batch downloads to follow; a batch yields records and dead letters."""
        if request.context["kind"] == "list":
            return Page(follow=self._downloads(response))
        return self._parse_batch(request, response)

    def _downloads(self, response: HttpResponse) -> list[HttpRequest]:
        listing = json_body(response.body, "petition_window listing")
        if not isinstance(listing, list):
            raise MalformedResponseError("petition_window listing: not a JSON list")
        downloads = []
        for entry in listing:
            if not isinstance(entry, dict):
                raise MalformedResponseError("petition_window listing: entry is not an object")
            batch_id, revision, sha = (
                entry.get("batch_id"),
                entry.get("revision"),
                entry.get("sha256"),
            )
            if (
                not isinstance(batch_id, str)
                or not isinstance(revision, int)
                or not isinstance(sha, str)
            ):
                raise MalformedResponseError(
                    "petition_window listing: entry lacks id/revision/sha256"
                )
            if revision <= self.state.revisions.get(batch_id, 0):
                continue
            downloads.append(
                HttpRequest(
                    f"{self.config.base_url}/exports/{quote(batch_id, safe='')}.csv",
                    context={
                        "kind": "batch",
                        "batch_id": batch_id,
                        "revision": revision,
                        "sha256": sha.lower(),
                    },
                )
            )
        return downloads

    def _parse_batch(self, request: HttpRequest, response: HttpResponse) -> Page:
        batch_id: str = request.context["batch_id"]
        revision: int = request.context["revision"]
        if hashlib.sha256(response.body).hexdigest() != request.context["sha256"]:
            self._torn[request.url] = response.body
            raise TornDownloadError(f"petition_window batch {batch_id}: sha256 mismatch")
        self._torn.pop(request.url, None)
        state = self.state.copy()
        batch = Batch()
        source = f"{request.url} revision {revision}"
        try:
            rows = parse_export(response.body)
        except CsvHeaderError as exc:
            batch.dead_letters.append(
                self.dead_letter(
                    "csv_batch_malformed", f"batch {batch_id}: {exc}", response.body, source
                )
            )
            rows = []
        label = f"{batch_id}#{revision}"
        fetched_at = utc_now()
        dead = set(state.dead.get(batch_id, []))
        batch_ts = fetched_at.timestamp()
        for row in rows:
            row_source = f"{source} row {row.number}"
            if row.cells is None:
                if row.fingerprint in dead:
                    continue
                dead.add(row.fingerprint)
                batch.dead_letters.append(
                    self.dead_letter(
                        row.error_kind or "csv_row_malformed",
                        row.error or "malformed row",
                        row.raw,
                        row_source,
                        row.external_id,
                    )
                )
                continue
            external_id = row.external_id or ""
            if not state.ledger.is_new(external_id, row.fingerprint):
                continue
            state.ledger.record(external_id, row.fingerprint, batch_ts)
            batch.records.append(
                RawEnvelope(
                    channel=Channel.PETITION_WINDOW,
                    connector=self.name,
                    external_id=external_id,
                    version=label,
                    fetched_at=fetched_at,
                    source=row_source,
                    record=row.cells,
                    raw_text=row.text,
                )
            )
        return self._finish(state, batch, batch_id, revision, dead)

    def _finish(
        self, state: PetitionState, batch: Batch, batch_id: str, revision: int, dead: set[str]
    ) -> Page:
        state.revisions[batch_id] = revision
        state.processed_at[batch_id] = time.time()
        if dead:
            state.dead[batch_id] = sorted(dead)
        if state.after is None or batch_id > state.after:
            state.after = batch_id
        state.prune((now_local() - REVISION_HORIZON).timestamp())
        batch.checkpoints[self.name] = state.to_json()

        def adopt() -> None:
            self.state = state

        return Page(batch=batch, adopt=adopt)

    def on_exhausted(self, request: HttpRequest, error: TransientUpstreamError) -> Page | None:
        """A batch whose checksum never matched in ``TORN_POLLS`` polls is dead-lettered whole."""
        if request.context.get("kind") != "batch" or not isinstance(error, TornDownloadError):
            return None
        batch_id: str = request.context["batch_id"]
        revision: int = request.context["revision"]
        polls = self._torn_polls.get((batch_id, revision), 0) + 1
        if polls < TORN_POLLS:
            self._torn_polls[(batch_id, revision)] = polls
            return None  # the next poll lists again, and may see a newer revision
        self._torn_polls.pop((batch_id, revision), None)
        letter = self.dead_letter(
            "checksum_mismatch",
            f"batch {batch_id} revision {revision}: sha256 never matched the listing",
            self._torn.pop(request.url, b""),
            f"{request.url} revision {revision}",
        )
        state = self.state.copy()
        return self._finish(state, Batch(dead_letters=[letter]), batch_id, revision, set())
