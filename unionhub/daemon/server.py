"""The daemon's HTTP server: /healthz, /readyz, /metrics, /openapi.json and the admin API."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from unionhub.admin.openapi import openapi_document
from unionhub.admin.rest import (
    add_admin_routes,
    auth_middleware,
    error_middleware,
    json_response,
)
from unionhub.admin.service import AdminService

Readiness = Callable[[], dict[str, bool]]


def build_app(
    service: AdminService,
    registry: CollectorRegistry,
    readiness: Readiness,
    admin_token: str | None,
    *,
    extra_middlewares: Sequence[Middleware] = (),
    mount: Sequence[Callable[[web.Application], None]] = (),
) -> web.Application:
    """The aiohttp application; health, readiness, metrics and the OpenAPI stay open.

    ``extra_middlewares`` (the case API's token check) run after the admin token
    check and inside the JSON error handling; ``mount`` adds further routes.
    """
    app = web.Application(
        middlewares=[auth_middleware(admin_token), error_middleware, *extra_middlewares]
    )

    async def healthz(request: web.Request) -> web.Response:
        return json_response({"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        checks = readiness()
        ready = all(checks.values())
        return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi(request: web.Request) -> web.Response:
        return json_response(openapi_document())

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    add_admin_routes(app, service)
    for add_routes in mount:
        add_routes(app)
    return app
