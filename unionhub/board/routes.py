"""The board's routes on the daemon: login, the views, one case, the live stream.

- ``GET /board/login`` a form; ``POST /board/login`` takes the district's or
  the city desk's token (the case API's, :mod:`unionhub.cases.access`) once and
  sets the session cookie (:mod:`unionhub.board.sessions`); ``POST
  /board/logout``.
- ``GET /board`` the view of the session's scope; the city desk may add
  ``?district=<slug>`` for one district's view, a district may not (403).
- ``GET /board/case/{case_id}`` one case; another district's case is refused
  with a 403 page, as ``GET /cases/{id}`` refuses it.
- ``GET /board/events`` the server-sent events of the view
  (:class:`unionhub.board.feed.BoardFeed`); ``GET /board/api/snapshot`` the
  same snapshot as JSON.

Without a session every page redirects to the login page and the stream and
the JSON answer 401.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.resources import files

import orjson
from aiohttp import web

from caseloop.figures import CITY
from review.store.base import CaseStore
from schemas.shenzhen import DISTRICT_BY_SLUG
from unionhub.board.feed import BoardFeed
from unionhub.board.pages import case_page, error_page
from unionhub.board.sessions import COOKIE, Sessions
from unionhub.cases.access import ActorTokens

STATIC = files("unionhub.board") / "static"
STATIC_TYPES = {".css": "text/css", ".js": "application/javascript", ".html": "text/html"}
HEARTBEAT_S = 15.0
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@dataclass
class Board:
    """What the board's routes need."""

    store: CaseStore
    feed: BoardFeed
    tokens: ActorTokens
    sessions: Sessions


BOARD_KEY = web.AppKey("board", Board)


def _board(request: web.Request) -> Board:
    return request.app[BOARD_KEY]


def _actor(request: web.Request) -> str | None:
    return _board(request).sessions.actor_of(request.cookies.get(COOKIE))


def _scope(request: web.Request, actor: str) -> str:
    """The view asked for: the actor's own, or (the city desk only) a district's."""
    asked = request.query.get("district") or actor
    if asked != CITY and asked not in DISTRICT_BY_SLUG:
        raise web.HTTPNotFound()
    if actor != CITY and asked != actor:
        raise web.HTTPForbidden()
    return asked


def _static(name: str) -> bytes:
    return (STATIC / name).read_bytes()


async def login_form(request: web.Request) -> web.Response:
    """GET /board/login."""
    return web.Response(body=_static("login.html"), content_type="text/html", headers=_NO_STORE)


def _same_origin(request: web.Request) -> None:
    """Refuse a form posted from another site (login CSRF); browsers send ``Origin``."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden()


async def login(request: web.Request) -> web.StreamResponse:
    """POST /board/login: the token once, then a session cookie."""
    _same_origin(request)
    form = await request.post()
    token = str(form.get("token", "")).strip()
    actor = _board(request).tokens.actor_of(f"Bearer {token}") if token else None
    if actor is None:
        raise web.HTTPSeeOther("/board/login?failed=1")
    response = web.HTTPSeeOther("/board")
    response.set_cookie(
        COOKIE, _board(request).sessions.open(actor),
        httponly=True, samesite="Strict", path="/board",
        secure=request.secure,
    )  # fmt: skip
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /board/logout."""
    _same_origin(request)
    _board(request).sessions.close(request.cookies.get(COOKIE))
    response = web.HTTPSeeOther("/board/login")
    response.del_cookie(COOKIE, path="/board")
    raise response


async def view(request: web.Request) -> web.Response:
    """GET /board[?district=]: the page; its script opens the event stream."""
    actor = _actor(request)
    if actor is None:
        raise web.HTTPSeeOther("/board/login")
    try:
        _scope(request, actor)
    except web.HTTPForbidden:
        return error_page(403, "这不是您所在区的看板", "This is another district's board.")
    return web.Response(body=_static("board.html"), content_type="text/html", headers=_NO_STORE)


async def static(request: web.Request) -> web.Response:
    """GET /board/static/{name}: the page's style and script."""
    name = request.match_info["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in (".css", ".js"):
        raise web.HTTPNotFound()
    try:
        body = _static(name)
    except FileNotFoundError:
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=STATIC_TYPES[suffix])


async def one_case(request: web.Request) -> web.Response:
    """GET /board/case/{case_id}."""
    actor = _actor(request)
    if actor is None:
        raise web.HTTPSeeOther("/board/login")
    case_id = request.match_info["case_id"]
    store = _board(request).store
    state = store.case(case_id)
    if state is None:
        return error_page(404, "没有这个案件", f"No case {case_id[:80]}.")
    if actor != CITY and state.district != actor:
        return error_page(403, "这是其他区的案件，无权查看", "This case is another district's.")
    events = store.select(
        "SELECT event_type, channel, category, street, employer_name, people, dispatched_us, "
        "summary FROM events WHERE case_id = ? ORDER BY dispatched_us, event_id",
        [case_id],
    )
    return case_page(state, events, actor)


async def snapshot_json(request: web.Request) -> web.Response:
    """GET /board/api/snapshot[?district=]."""
    actor = _actor(request)
    if actor is None:
        return web.json_response({"error": "not logged in"}, status=401)
    body = await _board(request).feed.snapshot(_scope(request, actor))
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def events(request: web.Request) -> web.StreamResponse:
    """GET /board/events[?district=]: ``snapshot``, ``case``, ``risk``, ``sla``, ``state``."""
    actor = _actor(request)
    if actor is None:
        return web.json_response({"error": "not logged in"}, status=401)
    scope = _scope(request, actor)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                 "X-Accel-Buffering": "no"}
    )  # fmt: skip
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    feed = _board(request).feed
    sub = feed.open(scope)
    try:
        await _send(response, "snapshot", await feed.snapshot(scope))
        while True:
            try:
                kind, item = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if kind == "end":
                break
            await _send(response, kind, item)
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        feed.close(sub)
    return response


async def _send(response: web.StreamResponse, kind: str, item: object) -> None:
    await response.write(b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps(item)))


def add_board_routes(app: web.Application, board: Board) -> None:
    """Mount the board on ``app``."""
    app[BOARD_KEY] = board
    app.router.add_routes(
        [
            web.get("/board/login", login_form),
            web.post("/board/login", login),
            web.post("/board/logout", logout),
            web.get("/board", view),
            web.get("/board/static/{name}", static),
            web.get("/board/case/{case_id}", one_case),
            web.get("/board/api/snapshot", snapshot_json),
            web.get("/board/events", events),
        ]
    )
