"""The board's server-rendered pages: one case, and the refusals (403, 404).

Jinja2 with autoescaping over ``static/*.html.j2``. A case page shows the
case's state, clocks and history and its reports (channel, category, street,
employer, the masked summary); no complainant's name or phone, which the
store does not even hold.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from core.times import from_us
from review import labels
from review.report.data import when
from schemas.caseloop import CaseState

_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("unionhub.board", "static"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, district=labels.district_zh, cst=_cst)
    env.globals.update(labels=labels)
    return env


def _cst(at: Any) -> str:
    if at is None:
        return "-"
    return when(int(at.timestamp() * 1_000_000))


def _render(name: str, code: int, **context: Any) -> web.Response:
    body = _environment().get_template(name).render(context)
    return web.Response(text=body, status=code, content_type="text/html", headers=_HEADERS)


def case_page(state: CaseState, events: list[tuple[Any, ...]], actor: str) -> web.Response:
    """One case as the board shows it."""
    reports = [
        {"event_type": t, "channel": c, "category": k, "street": s, "employer": e,
         "people": p, "at": from_us(int(at)), "summary": summary}
        for t, c, k, s, e, p, at, summary in events
    ]  # fmt: skip
    return _render("case.html.j2", 200, case=state, reports=reports, actor=actor)


def error_page(status: int, zh: str, en: str) -> web.Response:
    """A refusal as a page (``status`` 403 or 404) with a way back to the board."""
    return _render("error.html.j2", status, status=status, zh=zh, en=en)
