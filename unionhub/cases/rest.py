"""The case API on the daemon: a district's cases, its actions, the figures.

Every route needs the bearer token of a district federation or of the city
desk (:mod:`unionhub.cases.access`); a district sees and acts on its own cases
only (403 otherwise), the city desk on all. Errors are the admin API's JSON
(``{"error_code", "message", "field", "reason"}``).

``POST /cases/{case_id}/actions`` checks the action against the case's last
known state, sends it to the actor's action topic and waits (up to
:data:`APPLY_WAIT_S`) for the router to apply or refuse it: 200 with the new
case state, 409 with the router's reason, or 202 when neither is known yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware

from caseloop.clocks import WorkingCalendar
from caseloop.loopclock import LoopClock
from core.errors import ConfigError
from review.sink import CaseStoreSink
from review.store.base import CaseQuery, CaseStore
from schemas.caseloop import CaseStatus
from schemas.shenzhen import DISTRICT_BY_SLUG
from unionhub.admin.errors import AdminError
from unionhub.admin.rest import Handler, error_response, json_response
from unionhub.cases.access import ActorTokens
from unionhub.cases.actions import ActionSender, build_action, precheck, visible
from unionhub.cases.errors import ActionRefusedError, ForbiddenCaseError
from unionhub.cases.stats import Period, figures_for, figures_json, period_bounds

CASE_PREFIXES = ("/cases", "/stats")  # the board (/board) has its own sessions
APPLY_WAIT_S = 5.0
MAX_PER_PAGE = 200
ACTOR_KEY = web.AppKey("actor_tokens", ActorTokens)


@dataclass
class CaseApi:
    """What the routes need: the store and its sink, the sender, the loop's clock and calendar."""

    store: CaseStore
    sink: CaseStoreSink
    sender: ActionSender
    clock: LoopClock
    calendar: Callable[[], WorkingCalendar]


API_KEY = web.AppKey("case_api", CaseApi)


def actor_of(request: web.Request) -> str:
    """The actor the middleware found for this request."""
    actor: str = request["actor"]
    return actor


def case_auth_middleware(tokens: ActorTokens) -> Middleware:
    """Refuses (401) case routes without a district's or the city desk's token."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(CASE_PREFIXES):
            return await handler(request)
        actor = tokens.actor_of(request.headers.get("Authorization", ""))
        if actor is None:
            return error_response(401, "authorization", "missing or unknown bearer token")
        request["actor"] = actor
        return await handler(request)

    return middleware


async def get_case(request: web.Request) -> web.Response:
    """GET /cases/{case_id}."""
    api = request.app[API_KEY]
    case_id = request.match_info["case_id"]
    case = visible(api.store.case(case_id), actor_of(request), case_id)
    return _state_response(case.to_json())


async def list_cases(request: web.Request) -> web.Response:
    """GET /cases?district=&status=&overdue=true&page=&per_page=."""
    api = request.app[API_KEY]
    actor = actor_of(request)
    district = request.query.get("district") or (None if actor == "city" else actor)
    if district is not None and district not in DISTRICT_BY_SLUG:
        raise AdminError("district", f"{district[:40]!r} is not a district slug")
    if actor != "city" and district != actor:
        raise ForbiddenCaseError("district", "a district lists its own cases only")
    status = request.query.get("status")
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise AdminError("status", f"one of {', '.join(s.value for s in CaseStatus)}")
    page = _int(request.query.get("page", "1"), "page", 1, 1_000_000)
    per_page = _int(request.query.get("per_page", "50"), "per_page", 1, MAX_PER_PAGE)
    overdue = request.query.get("overdue", "false").lower() in ("true", "1", "yes")
    query = CaseQuery(
        district=district,
        status=status,
        overdue_at=api.clock.now() if overdue else None,
        page=page,
        per_page=per_page,
    )
    cases, total = api.store.cases(query)
    return json_response(
        {
            "cases": [c.model_dump(mode="json", by_alias=True) for c in cases],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


async def post_action(request: web.Request) -> web.Response:
    """POST /cases/{case_id}/actions."""
    api = request.app[API_KEY]
    case_id = request.match_info["case_id"]
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise AdminError("body", "not valid JSON") from None
    action = build_action(actor_of(request), case_id, body, api.clock.now())
    case = api.store.case(case_id)
    if case is not None and any(e.action_id == action.action_id for e in case.history):
        return _state_response(case.to_json())  # sent before: applied once
    precheck(case, action)
    await api.sender.send(action)

    def settled() -> bool:
        return _applied(api.store, case_id, action.action_id) or (
            api.store.refusal(action.action_id) is not None
        )

    await api.sink.wait_for(settled, APPLY_WAIT_S)
    refused = api.store.refusal(action.action_id)
    if refused is not None:
        field, _, reason = refused.message.partition(": ")
        raise ActionRefusedError(field if reason else "action", reason or refused.message)
    applied = api.store.case(case_id)
    if applied is not None and _applied(api.store, case_id, action.action_id):
        return _state_response(applied.to_json())
    return json_response({"action_id": action.action_id, "status": "sent"}, 202)


async def get_stats(request: web.Request) -> web.Response:
    """GET /stats?period=week|month&at=<ISO-8601>: figures per district and city-wide."""
    api = request.app[API_KEY]
    period: Period = "month" if request.query.get("period") == "month" else "week"
    if request.query.get("period", "week") not in ("week", "month"):
        raise AdminError("period", "week or month")
    now = api.clock.now()
    at = _time(request.query.get("at"), now)
    start, _ = period_bounds(period, at)
    states = api.store.states(touched_since=start)
    _, end, scopes = figures_for(states, period, at, now, api.calendar())
    actor = actor_of(request)
    shown = {k: v for k, v in scopes.items() if actor == "city" or k == actor}
    return json_response(
        {
            "period": period,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "evaluated_at": min(now, end).isoformat(),
            "figures": {scope: figures_json(f) for scope, f in shown.items()},
        }
    )


def add_case_routes(app: web.Application, api: CaseApi) -> None:
    """Mount the case API on ``app`` (auth comes from :func:`case_auth_middleware`)."""
    app[API_KEY] = api
    app.router.add_routes(
        [
            web.get("/cases", list_cases),
            web.get("/cases/{case_id}", get_case),
            web.post("/cases/{case_id}/actions", post_action),
            web.get("/stats", get_stats),
        ]
    )


def _applied(store: CaseStore, case_id: str, action_id: str) -> bool:
    case = store.case(case_id)
    return case is not None and any(e.action_id == action_id for e in case.history)


def _state_response(value: bytes) -> web.Response:
    return web.Response(body=value, content_type="application/json")


def _int(text: str, field: str, lo: int, hi: int) -> int:
    if not text.isdecimal() or not lo <= int(text) <= hi:
        raise AdminError(field, f"an integer from {lo} to {hi}")
    return int(text)


def _time(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("at", "an ISO-8601 time with offset") from None
    if parsed.tzinfo is None:
        raise ConfigError("at", "an ISO-8601 time with offset")
    return parsed
