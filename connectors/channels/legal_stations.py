"""legal_stations: a registry of station boxes, every box polled on its own.

Each round reads every station of the (periodically refreshed) registry with
at most ``max_concurrency`` at once, each request bounded by
``request_timeout_s`` and never retried within the round, so a slow or dead
station delays no other: a round lasts about one request timeout. Each
station has its own checkpoint (key ``<connector>/<station_id>``: the
``updated_after`` cursor, the ETag of that query, a version ledger) and its
own circuit breaker. A station that comes back resumes from its checkpoint.

This module is the source (rounds, breakers, the cases pages); the registry
is read by :mod:`connectors.channels.legal_registry`, and a station's
checkpoint is :class:`connectors.channels.legal_state.StationState`.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Any, cast

from connectors.base import SourceContext, SourceHealth
from connectors.breaker import BreakerState, CircuitBreaker
from connectors.channels.common import Invalid, dumps, json_body, parse_aware, query
from connectors.channels.legal_registry import Station, parse_registry
from connectors.channels.legal_state import StationState
from connectors.config import ConnectorConfig, LegalStationsConfig
from connectors.errors import (
    IntakeCommitError,
    MalformedResponseError,
    ProducerFencedError,
    TransientUpstreamError,
)
from connectors.http import HttpPollingSource, HttpRequest, HttpResponse, Page, gather_bounded
from connectors.intake import Batch
from connectors.registry import register
from connectors.resolution import Action, Resolution, ResolutionTable
from connectors.retry import RetryPolicy
from core.errors import ConfigError, UnionhubError
from schemas.channels import Channel
from schemas.raw import RawEnvelope, utc_now

PAGE_LIMIT = 100
LEDGER_HORIZON_S = 86400.0
MAX_DEAD_FINGERPRINTS = 200
NO_RETRY = RetryPolicy(attempts=1)

REGISTRY_TABLE = ResolutionTable("legal_stations registry")
# A station's own refusal is that station's failure (its breaker counts it), not a
# configuration error of the whole connector: the registry call would show that.
STATION_TABLE = ResolutionTable(
    "legal_stations station",
    {
        401: Resolution(Action.RETRY, "station refused the token (HTTP 401)"),
        403: Resolution(Action.RETRY, "station refused the token (HTTP 403)"),
        404: Resolution(Action.RETRY, "station endpoint not found (HTTP 404)"),
    },
)


@register(Channel.LEGAL_STATIONS)
class LegalStationsSource(HttpPollingSource):
    """Polls every station of the registry each round, concurrently and independently."""

    table = REGISTRY_TABLE
    config: LegalStationsConfig

    def __init__(self, config: ConnectorConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.stations: dict[str, Station] = {}
        self.station_states: dict[str, StationState] = {}
        self.breakers: dict[str, CircuitBreaker] = {}
        self.station_records: dict[str, int] = {}  # records committed, per station
        self._registry_read_at: float | None = None
        self.last_round_s: float | None = None

    def connection_limit(self) -> int:
        """One connection per concurrent station poll."""
        return self.config.max_concurrency

    def _key(self, station_id: str) -> str:
        return f"{self.name}/{station_id}"

    def load_state(self, states: dict[str, dict[str, Any]]) -> None:
        """Adopt the committed per-station checkpoints."""
        prefix = self.name + "/"
        self.station_states = {
            key[len(prefix) :]: StationState.from_json(value)
            for key, value in states.items()
            if key.startswith(prefix)
        }

    def health(self) -> SourceHealth:
        """As the base health, with station and breaker counts."""
        base = super().health()
        open_count = sum(1 for b in self.breakers.values() if b.state is BreakerState.OPEN)
        base.detail.update(
            stations=len(self.stations), breakers_open=open_count, last_round_s=self.last_round_s
        )
        return base

    # -- a round -----------------------------------------------------------------------

    async def poll_once(self) -> None:
        """Refresh the registry when due, then poll every station once."""
        loop = asyncio.get_running_loop()
        if (
            self._registry_read_at is None
            or loop.time() - self._registry_read_at >= self.config.registry_refresh_s
        ):
            try:
                await self.refresh_registry()
            except ConfigError:
                raise
            except UnionhubError as exc:
                if not self.stations:
                    raise
                # Keep polling the stations we know; the registry is tried again next round.
                self.log.warning("registry refresh failed", error=type(exc).__name__)
        started = loop.time()
        results = await gather_bounded(
            self.config.max_concurrency,
            *(self._station_call(s) for s in list(self.stations.values())),
        )
        self.last_round_s = loop.time() - started
        for result in results:
            if isinstance(result, IntakeCommitError | ProducerFencedError):
                raise result
            if isinstance(result, BaseException) and not isinstance(result, UnionhubError):
                raise result

    def _station_call(self, station: Station) -> Any:
        async def call() -> None:
            await self.poll_station(station)

        return call

    async def refresh_registry(self) -> None:
        """Re-read the registry (retried); stations that left are no longer polled."""
        request = HttpRequest(f"{self.config.registry_url}/stations", context={"kind": "registry"})
        page = await self.fetch_page(request, self.context.retry)
        page.adopt()
        self._registry_read_at = asyncio.get_running_loop().time()

    async def poll_station(self, station: Station) -> None:
        """Read one station's new cases page by page; failures only count on its breaker."""
        breaker = self.breakers.setdefault(
            station.station_id, CircuitBreaker(cooldown_s=self.context.breaker_cooldown_s)
        )
        now = asyncio.get_running_loop().time()
        if not breaker.allow(now):
            return
        state = self.station_states.get(station.station_id, StationState())
        params: dict[str, str | int] = {"updated_after": state.updated_after, "limit": PAGE_LIMIT}
        request = HttpRequest(
            f"{station.base_url.rstrip('/')}/cases?{query(params)}",
            context={"kind": "cases", "station": station, "first": True},
            timeout_s=self.config.request_timeout_s,
        )
        if state.resume_url:
            request = HttpRequest(
                state.resume_url,
                context={"kind": "cases", "station": station, "first": False},
                timeout_s=self.config.request_timeout_s,
            )
        elif state.etag and state.etag_after == state.updated_after:
            request = request.with_headers(**{"If-None-Match": state.etag})
        try:
            await self.read_stream(request, NO_RETRY)
        except (IntakeCommitError, ProducerFencedError):
            raise
        except UnionhubError as exc:
            was_open = breaker.state is BreakerState.OPEN
            breaker.failure(asyncio.get_running_loop().time())
            log = (
                self.log.info
                if breaker.state is BreakerState.OPEN and not was_open
                else self.log.debug
            )
            log(
                "station poll failed",
                station=station.station_id,
                error=type(exc).__name__,
                breaker=str(breaker.state),
            )
            return
        breaker.success()

    # -- template steps ----------------------------------------------------------------

    async def prepare(self, request: HttpRequest) -> HttpRequest:
        """Add the token."""
        return request.with_headers(Authorization=f"Token {self.config.token.get_secret_value()}")

    def check(self, request: HttpRequest, response: HttpResponse) -> None:
        """The registry and the stations have their own tables."""
        table = STATION_TABLE if request.context["kind"] == "cases" else REGISTRY_TABLE
        table.check(response.status, retry_after=self.retry_after(response))

    def parse(self, request: HttpRequest, response: HttpResponse) -> Page:
        """Registry entries, or one page of a station's cases."""
        if request.context["kind"] == "registry":
            return self._parse_registry(response)
        return self._parse_cases(request, response)

    def _parse_registry(self, response: HttpResponse) -> Page:
        listing = parse_registry(response.body)
        for _ in range(listing.skipped):
            self.log.warning("registry entry without station_id/base_url skipped")

        def adopt() -> None:
            self.stations = listing.stations

        return Page(adopt=adopt)

    def _parse_cases(self, request: HttpRequest, response: HttpResponse) -> Page:
        station: Station = request.context["station"]
        current = self.station_states.get(station.station_id, StationState())
        if response.status == 304:
            return Page()
        data = json_body(response.body, f"legal_stations {station.station_id}")
        cases = data.get("cases") if isinstance(data, dict) else None
        if not isinstance(cases, list):
            raise MalformedResponseError(f"legal_stations {station.station_id}: no cases list")
        next_url = data.get("next")
        state = current.copy()
        queried_after = state.updated_after
        batch = Batch()
        fetched_at = utc_now()
        source = f"station {station.station_id} {request.url}"
        newest: datetime | None = None
        for item in cases:
            invalid, external_id, updated = _validate(item)
            if updated is not None and (newest is None or updated > newest):
                newest = updated
                state.updated_after = str(cast(dict[str, Any], item)["updated_at"])
            if invalid is not None or external_id is None or updated is None:
                invalid = invalid or Invalid("malformed", "unreadable case")
                fingerprint = hashlib.sha256(dumps(item).encode()).hexdigest()[:24]
                if fingerprint not in state.dead:
                    state.dead = [*state.dead, fingerprint][-MAX_DEAD_FINGERPRINTS:]
                    letter = self.dead_letter(
                        invalid.kind, invalid.reason, dumps(item), source, external_id
                    )
                    batch.dead_letters.append(letter)
                continue
            case = cast(dict[str, Any], item)
            version = str(case["updated_at"])
            if not state.ledger.is_new(external_id, version):
                continue
            state.ledger.record(external_id, version, updated.timestamp())
            batch.records.append(
                RawEnvelope(
                    channel=Channel.LEGAL_STATIONS,
                    connector=self.name,
                    external_id=external_id,
                    version=version,
                    fetched_at=fetched_at,
                    source=source,
                    station=station.ref,
                    record=case,
                )
            )
        if newest is not None:
            state.ledger.prune(newest.timestamp() - LEDGER_HORIZON_S)
        state.resume_url = next_url if isinstance(next_url, str) and next_url else None
        etag = response.headers.get("etag")
        if request.context["first"] and etag:
            state.etag, state.etag_after = etag, queried_after
        if batch or state.to_json() != current.to_json():
            batch.checkpoints[self._key(station.station_id)] = state.to_json()

        def adopt() -> None:
            self.station_states[station.station_id] = state
            self.station_records[station.station_id] = self.station_records.get(
                station.station_id, 0
            ) + len(batch.records)

        follow = []
        # A "next" pointing back at this page would page forever: the next poll resumes.
        if isinstance(next_url, str) and next_url and next_url != request.url:
            follow.append(
                HttpRequest(
                    next_url,
                    context={"kind": "cases", "station": station, "first": False},
                    timeout_s=self.config.request_timeout_s,
                )
            )
        return Page(batch=batch, follow=follow, adopt=adopt)

    def on_exhausted(self, request: HttpRequest, error: TransientUpstreamError) -> Page | None:
        """No substitute page: the station's breaker records the failure."""
        return None


def _validate(item: object) -> tuple[Invalid | None, str | None, datetime | None]:
    """(why it is malformed or None, its case_id if readable, its update time)."""
    if not isinstance(item, dict):
        return Invalid("not_an_object", "case is not a JSON object"), None, None
    case_id = item.get("case_id")
    updated = parse_aware(item.get("updated_at"))
    if not isinstance(case_id, str) or not case_id:
        return Invalid("missing_id", "case_id missing or not a string"), None, updated
    if updated is None:
        reason = "updated_at is not an ISO-8601 time"
        return Invalid("invalid_timestamp", reason), case_id, None
    return None, case_id, updated
