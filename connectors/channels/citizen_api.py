"""What the citizen_app source and its reply sink share: OAuth2 client credentials and the table.

:class:`CitizenAuth` fetches a bearer token with the client credentials,
adds it to every request, and drops it when the upstream calls it expired
(the retry then fetches a new one). :data:`TABLE` resolves every answer of
the appeal API; :data:`REPLY_TABLE` adds what only the reply endpoint answers.
"""

from __future__ import annotations

from connectors.channels.common import error_code, json_body, query
from connectors.config import CitizenAppConfig
from connectors.errors import MalformedResponseError, TokenExpiredError
from connectors.resolution import Action, Resolution, ResolutionTable, parse_retry_after
from connectors.upstream import HttpRequest, HttpResponse, UpstreamClient
from core.logging import masker

TABLE = ResolutionTable(
    "citizen_app",
    {
        (401, "invalid_token"): Resolution(Action.REAUTHENTICATE, "access token expired"),
        (401, "invalid_client"): Resolution(Action.CONFIG_ERROR, "client credentials refused"),
        401: Resolution(Action.REAUTHENTICATE, "unauthorised; fetching a new token"),
        410: Resolution(Action.CURSOR_EXPIRED, "cursor expired"),
        429: Resolution(Action.RATE_LIMITED, "rate limited"),
    },
)
TOKEN_TABLE = ResolutionTable(
    "citizen_app token endpoint",
    {401: Resolution(Action.CONFIG_ERROR, "client credentials refused")},
)
REPLY_TABLE = TABLE.extended(
    {
        404: Resolution(Action.REFUSED, "unknown appeal (404)"),
        409: Resolution(Action.REFUSED, "appeal already closed upstream (409)"),
    }
)


class CitizenAuth:
    """The bearer token of one client (source or sink) of the citizen_app API."""

    def __init__(self, config: CitizenAppConfig, client: UpstreamClient) -> None:
        self._config = config
        self._client = client
        self._token: str | None = None

    async def authorize(self, request: HttpRequest) -> HttpRequest:
        """``request`` with the bearer token, fetching one when there is none."""
        if self._token is None:
            self._token = await self._fetch_token()
        return request.with_headers(Authorization=f"Bearer {self._token}")

    def check(self, table: ResolutionTable, response: HttpResponse) -> None:
        """Resolve ``response`` through ``table``; a refused token is dropped for the retry."""
        try:
            table.check(
                response.status,
                error_code(response.body),
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        except TokenExpiredError:
            self._token = None
            raise

    async def _fetch_token(self) -> str:
        form = query(
            {
                "grant_type": "client_credentials",
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret.get_secret_value(),
            }
        )
        request = HttpRequest(
            f"{self._config.base_url}/oauth/token",
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            data=form.encode(),
        )
        response = await self._client.send(request)
        TOKEN_TABLE.check(
            response.status,
            error_code(response.body),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
        data = json_body(response.body, "citizen_app token")
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedResponseError("citizen_app token: no access_token in the answer")
        masker().add_secret(token)
        return token
