"""The live check of a connector config: does the upstream answer, are the credentials good?

It builds the connector's source (no Kafka is touched), and fetches the first
page the connector would fetch (the registry for legal_stations) through the
connector's own prepare/check steps, so credentials are tested exactly as the
connector uses them. Nothing is committed.
"""

from __future__ import annotations

import dataclasses

from connectors.base import SourceContext
from connectors.config import ConnectorConfig
from connectors.errors import TransientUpstreamError
from connectors.http import HttpPollingSource
from connectors.registry import build_source
from connectors.retry import RetryPolicy
from core.errors import ConfigError, UnionhubError
from core.logging import masker
from unionhub.admin.errors import UpstreamCheckError

# A few quick attempts: an upstream that is up but flaky should still pass.
_CHECK_POLICY = RetryPolicy(attempts=4, initial_s=0.1, cap_s=1.0, jitter_s=0.05)


async def check_upstream(config: ConnectorConfig, context: SourceContext) -> None:
    """Return if the upstream answers ``config``'s first request; raise otherwise.

    Raises :class:`UpstreamCheckError` whose ``field`` is the credentials
    (refused) or the URL (no answer); the reason never carries a secret.
    """
    for secret in config.secrets():
        masker().add_secret(secret)
    quick = dataclasses.replace(context, retry=_CHECK_POLICY, http_timeout_s=10.0)
    source = build_source(config, quick)
    if not isinstance(source, HttpPollingSource):
        return
    source.load_state({})
    await source.open()
    try:
        refresh = getattr(source, "refresh_registry", None)
        if refresh is not None:
            await refresh()
        else:
            first = (await source.start_requests())[0]
            await source.fetch_page(first, _CHECK_POLICY)
    except ConfigError as exc:
        raise UpstreamCheckError(
            "credentials", f"the upstream refused them ({masker().mask(exc.reason)})"
        ) from None
    except TransientUpstreamError as exc:
        raise UpstreamCheckError(
            _url_field(config), f"the upstream did not answer ({masker().mask(str(exc))})"
        ) from None
    except UnionhubError as exc:
        raise UpstreamCheckError(
            _url_field(config), f"unexpected answer ({masker().mask(str(exc))})"
        ) from None
    finally:
        await source.close()


def _url_field(config: ConnectorConfig) -> str:
    return "registry_url" if hasattr(config, "registry_url") else "base_url"
