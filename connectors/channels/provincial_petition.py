"""provincial_petition: XML windows on DJSJ, re-read until past the late-arrival horizon.

A window [from, to) is read on every poll until ``to`` is more than
``late_arrival_s`` old; then it is final and the watermark moves past it. A
window answering TOO_MANY is split in halves. State (checkpoint key =
connector name): the watermark (start of the first window not yet final), the
version ledger (petition -> BBH written) for petitions registered after it,
and fingerprints of what was already dead-lettered (re-reads repeat it).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from connectors.base import SourceContext
from connectors.channels.common import Invalid, now_local, parse_local, query
from connectors.channels.petition_xml import (
    PetitionElement,
    TooMany,
    UnsafeXmlError,
    UpstreamError,
    XmlSyntaxError,
    parse_query_result,
)
from connectors.config import ConnectorConfig, ProvincialPetitionConfig
from connectors.errors import MalformedResponseError, UnexpectedResponseError
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page
from connectors.intake import Batch
from connectors.ledger import WatermarkState, newer_int
from connectors.registry import register
from connectors.resolution import ResolutionTable
from schemas.channels import Channel
from schemas.raw import RawEnvelope, utc_now

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
MARGIN = timedelta(minutes=5)

TABLE = ResolutionTable("provincial_petition")


def aligned_windows(
    start: datetime, end: datetime, width: timedelta
) -> list[tuple[datetime, datetime]]:
    """Windows of ``width`` from ``start`` (aligned down to a multiple of ``width``) to ``end``."""
    seconds = int(width.total_seconds())
    epoch = int(start.timestamp())
    t = start - timedelta(seconds=epoch % seconds)
    t = t.replace(microsecond=0)
    result = []
    while t < end:
        result.append((t, min(t + width, end)))
        t += width
    return result


@register(Channel.PROVINCIAL_PETITION)
class ProvincialPetitionSource(HttpPollingSource):
    """Reads every window not yet final; each window (or split part) is one transaction."""

    table = TABLE
    config: ProvincialPetitionConfig

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.state = WatermarkState(newer_int)
        self._uncommitted = False  # in-memory state ahead of the last checkpoint
        credentials = f"{self.config.username}:{self.config.password.get_secret_value()}"
        self._auth = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")

    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Adopt the committed checkpoint."""
        self.state = WatermarkState.from_json(newer_int, states.get(self.name))

    async def start_requests(self) -> list[HttpRequest]:
        """Every window from the watermark (or the backfill start) to now."""
        now = now_local().replace(microsecond=0)
        start = parse_local(self.state.watermark, TIME_FORMAT)
        if start is None:
            start = now - timedelta(seconds=self.config.backfill_s)
        width = timedelta(seconds=self.config.window_s)
        return [self._window(a, b, now) for a, b in aligned_windows(start, now, width)]

    def _window(self, start: datetime, end: datetime, now: datetime) -> HttpRequest:
        final = (now - end).total_seconds() > self.config.late_arrival_s
        params: dict[str, str | int] = {
            "from": start.strftime(TIME_FORMAT),
            "to": end.strftime(TIME_FORMAT),
        }
        return HttpRequest(
            f"{self.config.base_url}/xf/ws/petitions?{query(params)}",
            context={"from": start, "to": end, "now": now, "final": final},
        )

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """Add HTTP Basic credentials."""
        return request.with_headers(Authorization=self._auth)

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """New petition versions become records; TOO_MANY splits the window."""
        start: datetime = request.context["from"]
        end: datetime = request.context["to"]
        try:
            result = parse_query_result(response.body)
        except XmlSyntaxError:
            raise MalformedResponseError(
                f"provincial_petition window {start:%Y-%m-%dT%H:%M:%S}: XML not well-formed"
            ) from None
        except UnsafeXmlError as exc:
            return self._dead_response(request, response, f"XML refused as unsafe: {exc}")
        if isinstance(result, TooMany):
            if end - start <= timedelta(seconds=1):
                raise UnexpectedResponseError("provincial_petition: TOO_MANY in a 1 s window")
            middle = start + (end - start) / 2
            middle = middle.replace(microsecond=0)
            now: datetime = request.context["now"]
            return Page(follow=[self._window(start, middle, now), self._window(middle, end, now)])
        if isinstance(result, UpstreamError):
            raise UnexpectedResponseError(f"provincial_petition: error code {result.code!r}")
        return self._records(request, result)

    def _records(self, request: HttpRequest, petitions: list[PetitionElement]) -> Page:
        state = self.state.copy()
        batch = Batch()
        fetched_at = utc_now()
        for petition in petitions:
            invalid, external_id, registered = _validate(petition.fields)
            if invalid is not None or external_id is None or registered is None:
                invalid = invalid or Invalid("malformed", "unreadable petition")
                window_start: datetime = request.context["from"]
                if not state.dead.first_time(petition.text, window_start.timestamp()):
                    continue  # dead-lettered on an earlier read of this window
                batch.dead_letters.append(
                    self.dead_letter(
                        invalid.kind, invalid.reason, petition.text, request.url, external_id
                    )
                )
                continue
            version = petition.fields["BBH"].strip()
            if not state.ledger.is_new(external_id, version):
                continue
            state.ledger.record(external_id, version, registered.timestamp())
            batch.records.append(
                RawEnvelope(
                    channel=Channel.PROVINCIAL_PETITION,
                    connector=self.name,
                    external_id=external_id,
                    version=version,
                    fetched_at=fetched_at,
                    source=request.url,
                    record=petition.fields,
                    raw_text=petition.text,
                )
            )
        return self._finish(request, state, batch)

    def _finish(self, request: HttpRequest, state: WatermarkState, batch: Batch) -> Page:
        end: datetime = request.context["to"]
        if request.context["final"]:
            state.watermark = end.strftime(TIME_FORMAT)
            horizon = (end - MARGIN).timestamp()
            state.ledger.prune(horizon)
            state.dead.prune(horizon)
        moved = state.watermark != self.state.watermark
        if batch:
            batch.checkpoints[self.name] = state.to_json()

        def adopt() -> None:
            self.state = state
            # An empty window only moves the watermark: checkpointed at the end of
            # the poll instead of one transaction per empty hour (a backfill has many).
            self._uncommitted = (self._uncommitted or moved) and not batch

        return Page(batch=batch, adopt=adopt)

    async def poll_once(self) -> None:
        """Read every window not yet final, then checkpoint a watermark moved by empty ones."""
        self._uncommitted = False
        await super().poll_once()
        if self._uncommitted:
            await self.commit(Batch(checkpoints={self.name: self.state.to_json()}))
            self._uncommitted = False

    def _dead_response(self, request: HttpRequest, response: HttpResponse, reason: str) -> Page:
        """Dead-letter a whole response once (re-reads of the window do not repeat it)."""
        state = self.state.copy()
        batch = Batch()
        start: datetime = request.context["from"]
        if state.dead.first_time(response.body, start.timestamp()):
            batch.dead_letters.append(
                self.dead_letter("xml_unsafe", reason, response.body, request.url)
            )
        return self._finish(request, state, batch)


def _validate(fields: dict[str, Any]) -> tuple[Invalid | None, str | None, datetime | None]:
    """(why it is malformed or None, its XFJBH if readable, its DJSJ)."""
    external_id = fields.get("XFJBH")
    if not isinstance(external_id, str) or not external_id.strip():
        return Invalid("missing_id", "XFJBH missing or empty"), None, None
    external_id = external_id.strip()
    version = fields.get("BBH")
    # isdecimal and bounded: the version ledger compares BBH with int().
    if not isinstance(version, str) or not _is_version(version.strip()):
        return Invalid("invalid_version", "BBH is not an integer"), external_id, None
    registered = parse_local(fields.get("DJSJ"), TIME_FORMAT)
    if registered is None:
        reason = "DJSJ is not YYYY-MM-DDTHH:MM:SS"
        return Invalid("invalid_timestamp", reason), external_id, None
    return None, external_id, registered


def _is_version(text: str) -> bool:
    """True for a BBH ``int()`` can read: decimal digits, at most 18 of them."""
    return text.isdecimal() and len(text) <= 18
