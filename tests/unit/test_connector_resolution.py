"""The error-resolution table and the retry policy: what is retried, waited for, or fatal."""

from __future__ import annotations

import pytest

from connectors.channels.citizen_api import TABLE as CITIZEN_TABLE
from connectors.channels.hotline_api import BUSINESS_CODES
from connectors.errors import (
    CursorExpiredError,
    RateLimitedError,
    TokenExpiredError,
    TransientUpstreamError,
    UnexpectedResponseError,
    UpstreamConfigError,
)
from connectors.resolution import Action, ResolutionTable, parse_retry_after
from connectors.retry import RetryPolicy, call_with_retry, is_retriable

GENERIC = ResolutionTable("upstream")


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (200, Action.SUCCESS),
        (304, Action.NOT_MODIFIED),
        (429, Action.RATE_LIMITED),
        (500, Action.RETRY),
        (503, Action.RETRY),
        (401, Action.CONFIG_ERROR),
        (403, Action.CONFIG_ERROR),
        (400, Action.FAIL),
        (404, Action.FAIL),
    ],
)
def test_default_http_rows(status: int, action: Action) -> None:
    assert GENERIC.resolve(status).action is action


def test_citizen_app_distinguishes_expired_token_from_bad_client() -> None:
    with pytest.raises(TokenExpiredError):
        CITIZEN_TABLE.check(401, "invalid_token")
    with pytest.raises(UpstreamConfigError):
        CITIZEN_TABLE.check(401, "invalid_client")
    with pytest.raises(CursorExpiredError):
        CITIZEN_TABLE.check(410, "cursor_expired")
    with pytest.raises(RateLimitedError) as info:
        CITIZEN_TABLE.check(429, retry_after=7)
    assert info.value.retry_after == 7


def test_hotline_business_codes() -> None:
    assert BUSINESS_CODES.check(0).action is Action.SUCCESS
    with pytest.raises(UpstreamConfigError):
        BUSINESS_CODES.check(40101)
    with pytest.raises(RateLimitedError) as info:
        BUSINESS_CODES.check(42901)
    assert info.value.min_wait_s == 1.0
    for code in (40102, 40103, 50000):
        with pytest.raises(TransientUpstreamError):
            BUSINESS_CODES.check(code)
    with pytest.raises(UnexpectedResponseError):
        BUSINESS_CODES.check(12345)


def test_retriable_flags() -> None:
    assert is_retriable(TransientUpstreamError("x"))
    assert is_retriable(RateLimitedError("x"))
    assert not is_retriable(UpstreamConfigError("f", "r"))
    assert not is_retriable(UnexpectedResponseError("x"))
    assert not is_retriable(ValueError("x"))


def test_retry_after_is_honoured_and_bounded() -> None:
    policy = RetryPolicy(initial_s=0.1, cap_s=2, jitter_s=0, retry_after_cap_s=60)
    assert policy.wait_s(1, RateLimitedError("x", retry_after=5)) == 5
    assert policy.wait_s(1, RateLimitedError("x", retry_after=600)) == 60


def test_backoff_grows_to_the_cap_with_jitter_bounded() -> None:
    policy = RetryPolicy(initial_s=0.1, cap_s=1.0, jitter_s=0.05)
    waits = [policy.wait_s(n, TransientUpstreamError("x")) for n in range(1, 8)]
    assert 0.1 <= waits[0] <= 0.15
    assert all(1.0 <= w <= 1.05 for w in waits[4:])


def test_rate_limit_floor_grows_from_one_second() -> None:
    policy = RetryPolicy(initial_s=0.01, cap_s=10, jitter_s=0)
    assert policy.wait_s(1, RateLimitedError("x", min_wait_s=1)) == 1
    assert policy.wait_s(3, RateLimitedError("x", min_wait_s=1)) == 4


def test_expired_token_is_retried_at_once() -> None:
    assert RetryPolicy().wait_s(1, TokenExpiredError("x")) == 0


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


async def test_call_with_retry_retries_transient_errors_only() -> None:
    policy = RetryPolicy(attempts=4, initial_s=0.001, jitter_s=0)
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientUpstreamError("busy")
        return "ok"

    assert await call_with_retry(policy, flaky, what="flaky") == "ok"
    assert len(calls) == 3

    config_calls: list[int] = []

    async def misconfigured() -> str:
        config_calls.append(1)
        raise UpstreamConfigError("app_secret", "refused")

    with pytest.raises(UpstreamConfigError):
        await call_with_retry(policy, misconfigured, what="bad")
    assert len(config_calls) == 1


async def test_call_with_retry_gives_up_after_the_attempts() -> None:
    policy = RetryPolicy(attempts=3, initial_s=0.001, jitter_s=0)
    calls: list[int] = []

    async def down() -> str:
        calls.append(1)
        raise TransientUpstreamError("down")

    with pytest.raises(TransientUpstreamError):
        await call_with_retry(policy, down, what="down")
    assert len(calls) == 3
