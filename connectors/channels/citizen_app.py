"""citizen_app: OAuth2 client credentials, a cursor-paged change log, 410 recovery via ``since``.

State (checkpoint key = connector name): the cursor, the ``updated_at`` of the
last appeal seen (where a ``since`` re-read starts after a 410) and the
version ledger, which recognises the appeals such a re-read repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from connectors.base import SourceContext
from connectors.channels.citizen_api import TABLE, CitizenAuth
from connectors.channels.common import Invalid, dumps, json_body, parse_aware, query
from connectors.config import CitizenAppConfig, ConnectorConfig
from connectors.errors import CursorExpiredError, MalformedResponseError
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page
from connectors.intake import Batch
from connectors.ledger import DeadLetterMemory, VersionLedger, newer_int
from connectors.registry import register
from schemas.channels import Channel
from schemas.raw import RawEnvelope, utc_now

LEDGER_HORIZON = timedelta(days=2)
MAX_CURSOR_RECOVERIES = 5  # a since= re-read starts at the last updated_at seen


@dataclass
class CitizenState:
    """Where the change log was left and which versions were written."""

    cursor: str | None = None
    last_updated_at: str | None = None
    ledger: VersionLedger = field(default_factory=lambda: VersionLedger(newer_int))
    dead: DeadLetterMemory = field(default_factory=DeadLetterMemory)

    def to_json(self) -> dict[str, Any]:
        """Checkpoint form."""
        return {
            "cursor": self.cursor,
            "last_updated_at": self.last_updated_at,
            "ledger": self.ledger.to_json(),
            "dead": self.dead.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CitizenState:
        """From a checkpoint (a fresh state for None)."""
        if not data:
            return cls()
        return cls(
            cursor=data.get("cursor"),
            last_updated_at=data.get("last_updated_at"),
            ledger=VersionLedger.from_json(newer_int, data.get("ledger")),
            dead=DeadLetterMemory.from_json(data.get("dead")),
        )


@register(Channel.CITIZEN_APP)
class CitizenAppSource(HttpPollingSource):
    """Reads the appeal change log; every page is one transaction with the new cursor."""

    table = TABLE
    config: CitizenAppConfig

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.state = CitizenState()
        self.auth = CitizenAuth(self.config, self.client)
        self._since: str | None = None  # set after a 410 until a page gives a new cursor

    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Adopt the committed checkpoint."""
        self.state = CitizenState.from_json(states.get(self.name))
        self._since = None

    async def poll_once(self) -> None:
        """Read the log to its end; after a 410, re-read from the last ``updated_at``."""
        for _ in range(MAX_CURSOR_RECOVERIES):
            try:
                await super().poll_once()
            except CursorExpiredError:
                self.log.info("cursor expired; resuming from the last update time")
                self._since = self.state.last_updated_at
                self.state.cursor = None
            else:
                return
        raise CursorExpiredError("citizen_app: cursors keep expiring; will try again")

    async def start_requests(self) -> list[HttpRequest]:
        """One stream: from the cursor, from ``since`` after a 410, or from the start."""
        params: dict[str, str | int] = {"limit": self.config.page_size}
        if self.state.cursor:
            params = {"cursor": self.state.cursor, **params}
        elif self._since:
            params = {"since": self._since, **params}
        return [self._list_request(params)]

    def _list_request(self, params: dict[str, str | int]) -> HttpRequest:
        return HttpRequest(f"{self.config.base_url}/api/v2/appeals?{query(params)}")

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """Add the bearer token, fetching one when there is none."""
        return await self.auth.authorize(request)

    def check(self, request: HttpRequest, response: HttpResponse) -> None:
        """Resolve through the table; a refused token is dropped so the retry gets a new one."""
        self.auth.check(self.table, response)

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """Appeals not yet written become records, broken ones dead letters; the cursor moves."""
        data = json_body(response.body, "citizen_app appeals")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise MalformedResponseError("citizen_app appeals: no data list in the answer")
        next_cursor = data.get("next_cursor")
        if not isinstance(next_cursor, str) or not next_cursor:
            raise MalformedResponseError("citizen_app appeals: no next_cursor in the answer")
        previous = self.state
        state = CitizenState(
            previous.cursor,
            previous.last_updated_at,
            previous.ledger.copy(),
            previous.dead.copy(),
        )
        batch = Batch()
        fetched_at = utc_now()
        source = request.url
        for item in data["data"]:
            invalid, external_id = _validate(item)
            if invalid is not None:
                if not state.dead.first_time(dumps(item), fetched_at.timestamp()):
                    continue  # a since= re-read served it again
                batch.dead_letters.append(
                    self.dead_letter(invalid.kind, invalid.reason, dumps(item), source, external_id)
                )
                continue
            appeal = cast(dict[str, Any], item)
            version = str(appeal["version"])
            updated = parse_aware(appeal["updated_at"]) or fetched_at  # valid: see _validate
            state.last_updated_at = appeal["updated_at"]
            if not state.ledger.is_new(appeal["appeal_id"], version):
                continue
            state.ledger.record(appeal["appeal_id"], version, updated.timestamp())
            batch.records.append(
                RawEnvelope(
                    channel=Channel.CITIZEN_APP,
                    connector=self.name,
                    external_id=appeal["appeal_id"],
                    version=version,
                    fetched_at=fetched_at,
                    source=source,
                    record=appeal,
                )
            )
        if state.last_updated_at is not None:
            newest = parse_aware(state.last_updated_at)
            if newest is not None:
                state.ledger.prune((newest - LEDGER_HORIZON).timestamp())
        state.dead.prune((fetched_at - LEDGER_HORIZON).timestamp())
        state.cursor = next_cursor
        changed = bool(batch.records or batch.dead_letters) or next_cursor != self.state.cursor
        if changed:
            batch.checkpoints[self.name] = state.to_json()

        def adopt() -> None:
            self.state = state
            self._since = None

        follow = []
        # A cursor that does not move would page forever: the next poll resumes from it.
        if data.get("has_more") is True and next_cursor != previous.cursor:
            params: dict[str, str | int] = {"cursor": next_cursor, "limit": self.config.page_size}
            follow.append(self._list_request(params))
        return Page(batch=batch, follow=follow, adopt=adopt)


def _validate(item: object) -> tuple[Invalid | None, str | None]:
    """(why it is malformed or None, its appeal_id if readable)."""
    if not isinstance(item, dict):
        return Invalid("not_an_object", "appeal is not a JSON object"), None
    appeal_id = item.get("appeal_id")
    external_id = appeal_id if isinstance(appeal_id, str) and appeal_id else None
    if external_id is None:
        return Invalid("missing_id", "appeal_id missing or not a string"), None
    version = item.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return Invalid("invalid_version", "version is not a positive integer"), external_id
    if parse_aware(item.get("updated_at")) is None:
        return Invalid("invalid_timestamp", "updated_at is not an ISO-8601 time"), external_id
    return None, external_id
