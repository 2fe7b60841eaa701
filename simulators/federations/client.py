"""The case API as a federation's staff use it: one bearer token, three calls.

Every call returns the HTTP status and the JSON body (or None); a call that got
no answer (the daemon is restarting, the connection dropped, it timed out)
returns status 0, so the caller decides whether to retry. No call raises for
an HTTP status.
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp
import orjson

NO_ANSWER = 0
REQUEST_TIMEOUT_S = 20.0  # above the API's own wait for an action to settle (5 s)


class CaseCalls(Protocol):
    """The three calls a federation makes (a :class:`CaseClient`, or a test's stand-in)."""

    async def case(self, case_id: str) -> tuple[int, Any]:
        """One case's state."""
        ...

    async def cases(self, status: str, page: int, per_page: int = 200) -> tuple[int, Any]:
        """One page of the actor's cases in ``status``."""
        ...

    async def act(self, case_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Send one action."""
        ...


class CaseClient:
    """Calls ``GET /cases``, ``GET /cases/{id}`` and ``POST /cases/{id}/actions`` as one actor."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def case(self, case_id: str) -> tuple[int, Any]:
        """One case's state."""
        return await self._call("GET", f"/cases/{case_id}")

    async def cases(self, status: str, page: int, per_page: int = 200) -> tuple[int, Any]:
        """One page of the actor's cases in ``status`` (the city desk: everyone's)."""
        query = f"?status={status}&page={page}&per_page={per_page}"
        return await self._call("GET", f"/cases{query}")

    async def act(self, case_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Send one action; 200 applied, 202 sent but not settled, 4xx refused."""
        return await self._call("POST", f"/cases/{case_id}/actions", body)

    async def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = orjson.dumps(body) if body is not None else None
        headers = {**self._headers, "Content-Type": "application/json"} if data else self._headers
        try:
            async with self._session.request(
                method,
                self._base + path,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as resp:
                raw = await resp.read()
                try:
                    return resp.status, orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    return resp.status, None
        except (aiohttp.ClientError, TimeoutError):
            return NO_ANSWER, None
