"""The admin REST API in Kafka Connect's shape, a thin layer over :class:`AdminService`.

Every route here needs ``Authorization: Bearer <UNIONHUB_ADMIN_TOKEN>``
(compared in constant time; with no token configured every admin call is
refused). Errors are JSON: ``{"error_code", "message", "field", "reason"}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from connectors.config import REPLY_CHANNELS
from connectors.configfile import parse_config_document
from core.errors import ConfigError, UnionhubError
from schemas.channels import Channel
from unionhub.admin.errors import AdminError
from unionhub.admin.service import AdminService
from unionhub.configstore import (
    ConfigStoreError,
    InvalidConnectorConfigError,
    InvalidConnectorNameError,
    UnknownConnectorError,
)

log = structlog.get_logger(__name__)

ADMIN_PREFIXES = ("/connectors", "/connector-plugins")
SERVICE_KEY = web.AppKey("admin_service", AdminService)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON answer (orjson, UTF-8)."""
    return web.Response(
        body=orjson.dumps(body, default=str), status=status, content_type="application/json"
    )


def error_response(status: int, field: str, reason: str) -> web.Response:
    """The JSON error every refusal uses."""
    return json_response(
        {"error_code": status, "message": f"{field}: {reason}", "field": field, "reason": reason},
        status,
    )


def auth_middleware(token: str | None) -> Middleware:
    """Refuses (401) admin routes without the right bearer token; others pass."""
    expected = f"Bearer {token}".encode() if token else None

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(ADMIN_PREFIXES):
            return await handler(request)
        if expected is None:
            return error_response(401, "authorization", "admin API disabled: no admin token set")
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("admin call refused", path=request.path, method=request.method)
            return error_response(401, "authorization", "missing or wrong bearer token")
        return await handler(request)

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns admin and config errors into JSON answers naming the field."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, "body", exc.text or "request body too large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, "request", exc.reason)
    except AdminError as exc:
        return error_response(exc.status, exc.field, exc.reason)
    except UnknownConnectorError as exc:
        return error_response(404, "name", f"no connector named {exc.name}")
    except InvalidConnectorNameError as exc:
        return error_response(400, "name", exc.reason)
    except InvalidConnectorConfigError as exc:
        field, _, reason = exc.reason.partition(": ")
        return error_response(400, field if reason else "config", reason or exc.reason)
    except ConfigError as exc:
        return error_response(400, exc.field, exc.reason)
    except (ConfigStoreError, UnionhubError) as exc:
        status = 503 if exc.retriable else 500
        return error_response(status, "kafka" if exc.retriable else "server", str(exc))


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if "yaml" in request.content_type:
        try:
            return parse_config_document(raw, "body")
        except ConfigError as exc:
            raise AdminError("body", exc.reason) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AdminError("body", "not valid JSON (or YAML with a yaml content type)") from None


def _connect_shape(body: Any) -> Any:
    """Accept Kafka Connect's ``{"name", "config": {...}}`` as well as a bare config."""
    if isinstance(body, dict) and isinstance(body.get("config"), dict):
        config = dict(body["config"])
        if "name" in body:
            config.setdefault("name", body["name"])
        return config
    return body


def _service(request: web.Request) -> AdminService:
    return request.app[SERVICE_KEY]


async def list_connectors(request: web.Request) -> web.Response:
    """GET /connectors[?expand=status|info]."""
    service = _service(request)
    names = await service.list_names()
    expand = request.query.getall("expand", [])
    if not expand:
        return json_response(names)
    result: dict[str, Any] = {}
    for name in names:
        entry: dict[str, Any] = {}
        if "info" in expand:
            entry["info"] = {"name": name, "config": await service.get_config(name)}
        if "status" in expand:
            entry["status"] = await service.status(name)
        result[name] = entry
    return json_response(result)


async def create_connector(request: web.Request) -> web.Response:
    """POST /connectors."""
    return json_response(await _service(request).create(_connect_shape(await _body(request))), 201)


async def get_connector(request: web.Request) -> web.Response:
    """GET /connectors/{name}."""
    return json_response(await _service(request).describe(request.match_info["name"]))


async def get_config(request: web.Request) -> web.Response:
    """GET /connectors/{name}/config."""
    return json_response(await _service(request).get_config(request.match_info["name"]))


async def put_config(request: web.Request) -> web.Response:
    """PUT /connectors/{name}/config: 201 when created, 200 when replaced."""
    name = request.match_info["name"]
    created, body = await _service(request).put_config(name, _connect_shape(await _body(request)))
    return json_response(body, 201 if created else 200)


async def get_status(request: web.Request) -> web.Response:
    """GET /connectors/{name}/status."""
    return json_response(await _service(request).status(request.match_info["name"]))


async def pause(request: web.Request) -> web.Response:
    """PUT /connectors/{name}/pause."""
    await _service(request).pause(request.match_info["name"])
    return web.Response(status=202)


async def resume(request: web.Request) -> web.Response:
    """PUT /connectors/{name}/resume."""
    await _service(request).resume(request.match_info["name"])
    return web.Response(status=202)


async def restart(request: web.Request) -> web.Response:
    """POST /connectors/{name}/restart."""
    await _service(request).restart(request.match_info["name"])
    return web.Response(status=202)


async def delete_connector(request: web.Request) -> web.Response:
    """DELETE /connectors/{name}."""
    await _service(request).remove(request.match_info["name"])
    return web.Response(status=204)


async def get_offsets(request: web.Request) -> web.Response:
    """GET /connectors/{name}/offsets."""
    return json_response(await _service(request).offsets(request.match_info["name"]))


async def reset_offsets(request: web.Request) -> web.Response:
    """DELETE /connectors/{name}/offsets: forget every checkpoint (only while paused)."""
    after = await _service(request).reset_offsets(request.match_info["name"])
    return json_response({"message": "offsets reset", **after})


async def alter_offsets(request: web.Request) -> web.Response:
    """PATCH /connectors/{name}/offsets ``{"offsets": {key: checkpoint}}`` (only while paused)."""
    body = await _body(request)
    if not isinstance(body, dict) or "offsets" not in body:
        raise AdminError("offsets", 'body must be {"offsets": {key: checkpoint}}')
    after = await _service(request).reset_offsets(request.match_info["name"], body["offsets"])
    return json_response({"message": "offsets altered", **after})


async def validate(request: web.Request) -> web.Response:
    """PUT /connector-plugins/{channel}/config/validate[?live=false]."""
    live = request.query.get("live", "true").lower() not in ("false", "0", "no")
    result = await _service(request).validate(
        _connect_shape(await _body(request)), channel=request.match_info["channel"], live=live
    )
    return json_response(result)


async def list_plugins(request: web.Request) -> web.Response:
    """GET /connector-plugins: the channels a source can be made for, and a reply sink."""
    sources = [{"class": c.value, "type": "source"} for c in Channel]
    sinks = [{"class": c.value, "type": "sink"} for c in Channel if c in REPLY_CHANNELS]
    return json_response(sources + sinks)


def add_admin_routes(app: web.Application, service: AdminService) -> None:
    """Mount every admin route on ``app`` (auth and errors come from the middlewares)."""
    app[SERVICE_KEY] = service
    app.router.add_routes(
        [
            web.get("/connectors", list_connectors),
            web.post("/connectors", create_connector),
            web.get("/connectors/{name}", get_connector),
            web.delete("/connectors/{name}", delete_connector),
            web.get("/connectors/{name}/config", get_config),
            web.put("/connectors/{name}/config", put_config),
            web.get("/connectors/{name}/status", get_status),
            web.put("/connectors/{name}/pause", pause),
            web.put("/connectors/{name}/resume", resume),
            web.post("/connectors/{name}/restart", restart),
            web.get("/connectors/{name}/offsets", get_offsets),
            web.delete("/connectors/{name}/offsets", reset_offsets),
            web.patch("/connectors/{name}/offsets", alter_offsets),
            web.get("/connector-plugins", list_plugins),
            web.put("/connector-plugins/{channel}/config/validate", validate),
        ]
    )
