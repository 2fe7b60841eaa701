"""``legal_stations``: a registry of stations and one small case box per station.

Routes: ``GET /legal/stations`` (the registry; ``registry_url`` is ``{base}/legal``)
and ``GET /legal/stations/{station_id}/cases`` (each station's ``base_url`` is
``{base}/legal/stations/{station_id}``). Boxes go down on their own: with
faults on, each station is down in some outage slots (two minutes by default) (refusing, hanging
or answering 503), about ``fault_rate`` of the time; ``set_station_down``
forces a mode.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from urllib.parse import urlencode

import orjson
from aiohttp import web

from schemas.channels import Channel
from simulators.scenario.generator import CST, iso_cst
from simulators.scenario.model import RecordVersion, Station
from simulators.servers.auth import bearer
from simulators.servers.state import ServerState, drop_connection, json_response

PREFIX = "/legal"
CHANNEL = Channel.LEGAL_STATIONS.value
DOWN_MODES = ("refuse", "hang", "http_503")


class LegalStations:
    """Serves the registry and the station boxes of one scenario."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.stations = {s.station_id: s for s in state.scenario.stations}
        self.cases: dict[str, dict[str, list[RecordVersion]]] = {}
        for v in state.scenario.versions:
            if v.channel == Channel.LEGAL_STATIONS and v.station_id is not None:
                box = self.cases.setdefault(v.station_id, {})
                box.setdefault(v.external_id, []).append(v)
        for box in self.cases.values():
            for versions in box.values():
                versions.sort(key=lambda v: v.visible_at)
        self.started = time.monotonic()

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the simulator app."""
        return [
            web.get(PREFIX + "/stations", self.registry),
            web.get(PREFIX + "/stations/{station_id}/cases", self.station_cases),
        ]

    def is_listed(self, station: Station) -> bool:
        """Whether the registry lists ``station`` now (stations open and close)."""
        opened = station.opens_at is None or self.state.visible(station.opens_at)
        closed = station.closes_at is not None and self.state.visible(station.closes_at)
        return opened and not closed

    def station_url(self, station_id: str) -> str:
        """The station's own base URL as the registry gives it."""
        return f"{self.state.base_url}{PREFIX}/stations/{station_id}"

    def _authorised(self, request: web.Request) -> bool:
        token = bearer(request.headers.get("Authorization"), "Token") or ""
        return hmac.compare_digest(token, self.state.credentials["legal_token"])

    async def registry(self, request: web.Request) -> web.StreamResponse:
        """Every station open now."""
        if not self._authorised(request):
            return json_response({"error": "unauthorized"}, 401)
        if self.state.faults.draw(CHANNEL + ".registry", ("http_5xx",)) is not None:
            return json_response({"error": "service unavailable"}, 503)
        return json_response(
            [
                {
                    "station_id": s.station_id,
                    "name": s.name,
                    "district": s.district,
                    "base_url": self.station_url(s.station_id),
                }
                for s in self.stations.values()
                if self.is_listed(s)
            ]
        )

    def down_mode(self, station_id: str) -> str | None:
        """How ``station_id`` fails right now, or ``None`` when it answers."""
        if station_id in self.state.station_overrides:
            return self.state.station_overrides[station_id]
        rate = self.state.faults.rate
        if rate <= 0:
            return None
        slot = int((time.monotonic() - self.started) // self.state.station_outage_s)
        digest = hashlib.sha256(f"{self.state.scenario.seed}|{station_id}|{slot}".encode()).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 >= rate:
            return None
        return DOWN_MODES[digest[4] % len(DOWN_MODES)]

    async def station_cases(self, request: web.Request) -> web.StreamResponse:
        """Cases changed after ``updated_after``, ordered by (updated_at, case_id)."""
        station_id = request.match_info["station_id"]
        station = self.stations.get(station_id)
        if station is None or not self.is_listed(station):
            return drop_connection(request)  # nothing answers at a closed station's address
        mode = self.down_mode(station_id)
        if mode is not None:
            self.state.faults.count(CHANNEL, mode)
            if mode == "refuse":
                return drop_connection(request)
            if mode == "hang":
                await self.state.hang()
            return json_response({"error": "service unavailable"}, 503)
        self.state.faults.requests[CHANNEL] += 1
        if not self._authorised(request):
            return json_response({"error": "unauthorized"}, 401)
        q = request.query
        try:
            limit = int(q.get("limit", "100"))
            after = datetime.fromisoformat(q["updated_after"]) if "updated_after" in q else None
        except ValueError:
            return json_response({"error": "invalid_request"}, 400)
        if after is not None and after.tzinfo is None:
            after = after.replace(tzinfo=CST)
        if not 1 <= limit <= 500:
            return json_response({"error": "invalid_request", "field": "limit"}, 400)
        after_id = q.get("after_id", "")
        rows = []
        for versions in self.cases.get(station_id, {}).values():
            current = None
            for v in versions:
                if not self.state.visible(v.visible_at):
                    break
                current = v
            if current is None:
                continue
            if after is not None and (
                (current.at, current.external_id) <= (after, after_id)
                if after_id
                else current.at <= after
            ):
                continue
            rows.append(current)
        rows.sort(key=lambda v: (v.at, v.external_id))
        page = rows[:limit]
        next_url = None
        if len(rows) > limit:
            last = page[-1]
            query = urlencode(
                {"updated_after": iso_cst(last.at), "after_id": last.external_id, "limit": limit}
            )
            next_url = f"{self.station_url(station_id)}/cases?{query}"
        body = orjson.dumps({"cases": [v.record for v in page], "next": next_url})
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, content_type="application/json", charset="utf-8", headers={"ETag": etag}
        )
