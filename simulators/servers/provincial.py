"""``provincial_petition``: HTTP Basic, namespaced XML time windows on DJSJ, late arrivals.

Route: ``GET /provincial/xf/ws/petitions?from=..&to=..``. A petition is served
from the moment its county syncs it (up to 2 h after DJSJ), in its current BBH.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from schemas.channels import Channel
from schemas.vocabulary import PROVINCIAL_XML_NAMESPACE
from simulators.scenario.generator import CST
from simulators.scenario.model import RecordVersion
from simulators.servers.auth import basic_ok
from simulators.servers.state import ServerState, drop_connection, json_response

PREFIX = "/provincial"
NS = PROVINCIAL_XML_NAMESPACE
LIMIT = 500
FAULTS = ("http_5xx", "drop")
CHANNEL = Channel.PROVINCIAL_PETITION.value
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
CDATA_FIELDS = frozenset({"XFMD", "DWMC", "DWDZ"})


def _xml(body: str) -> web.Response:
    return web.Response(
        body=('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(),
        content_type="application/xml",
        charset="utf-8",
    )


def _error(code: str, **attrs: str) -> web.Response:
    extra = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return _xml(f'<xf:Error xmlns:xf="{NS}" code="{code}"{extra}/>\n')


def _element(name: str, value: Any, indent: str) -> str:
    if isinstance(value, dict):
        inner = "".join(_element(k, v, indent + "  ") for k, v in value.items())
        return f"{indent}<xf:{name}>\n{inner}{indent}</xf:{name}>\n"
    text = str(value)
    if name in CDATA_FIELDS and text:
        return f"{indent}<xf:{name}><![CDATA[{text}]]></xf:{name}>\n"
    return f"{indent}<xf:{name}>{escape(text)}</xf:{name}>\n"


def petition_xml(record: dict[str, Any]) -> str:
    """One ``<xf:Petition>`` element."""
    inner = "".join(_element(k, v, "    ") for k, v in record.items())
    return f"  <xf:Petition>\n{inner}  </xf:Petition>\n"


class Provincial:
    """Serves the petition window query of one scenario."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.petitions: dict[str, list[RecordVersion]] = {}
        for v in state.scenario.versions:
            if v.channel == Channel.PROVINCIAL_PETITION:
                self.petitions.setdefault(v.external_id, []).append(v)
        for versions in self.petitions.values():
            versions.sort(key=lambda v: v.visible_at)

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the simulator app."""
        return [web.get(PREFIX + "/xf/ws/petitions", self.petitions_in_window)]

    async def petitions_in_window(self, request: web.Request) -> web.StreamResponse:
        """Petitions registered in [from, to), as XML."""
        creds = self.state.credentials
        header = request.headers.get("Authorization")
        if not basic_ok(header, creds["provincial_username"], creds["provincial_password"]):
            return web.Response(
                status=401, text="unauthorized", headers={"WWW-Authenticate": 'Basic realm="xf"'}
            )
        fault = self.state.faults.draw(CHANNEL, FAULTS)
        if fault == "http_5xx":
            return json_response({"error": "service unavailable"}, 503)
        if fault == "drop":
            return drop_connection(request)
        try:
            start = datetime.strptime(request.query["from"], TIME_FORMAT).replace(tzinfo=CST)
            end = datetime.strptime(request.query["to"], TIME_FORMAT).replace(tzinfo=CST)
        except (KeyError, ValueError):
            return _error("BAD_REQUEST", message="from/to: YYYY-MM-DDTHH:MM:SS")
        if not start < end <= start + timedelta(hours=24):
            return _error("BAD_REQUEST", message="window must be non-empty and at most 24 h")
        found = []
        for versions in self.petitions.values():
            current = None
            for v in versions:
                if not self.state.visible(v.visible_at):
                    break
                current = v
            if current is not None and start <= current.at < end:
                found.append(current)
        if len(found) > LIMIT:
            return _error("TOO_MANY", limit=str(LIMIT))
        found.sort(key=lambda v: (v.at, v.external_id))
        frm, to = request.query["from"], request.query["to"]
        body = (
            f'<xf:QueryResult xmlns:xf="{NS}" from={quoteattr(frm)} to={quoteattr(to)}'
            f' count="{len(found)}">\n'
            + "".join(petition_xml(v.record) for v in found)
            + "</xf:QueryResult>\n"
        )
        return _xml(body)
