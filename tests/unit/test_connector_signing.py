"""hotline_12351 signing reproduces channels.md's worked example exactly."""

from __future__ import annotations

from urllib.parse import parse_qsl

from connectors.channels.hotline_signing import (
    canonical_query,
    new_nonce,
    sign,
    signed_query,
    string_to_sign,
)

EXAMPLE = {
    "app_key": "hub",
    "end_time": "2025-05-23 15:00:00",
    "nonce": "abcdefgh12345678",
    "page_no": "1",
    "page_size": "50",
    "start_time": "2025-05-23 14:00:00",
    "timestamp": "1748000000000",
}
EXPECTED_SIGN = "9b77d58af99d76b95c7bf84e26346321bc92ada4d35057a1d033be52ba736c04"


def test_worked_example_string_to_sign() -> None:
    assert string_to_sign("GET", "/open/api/v1/workorders", EXAMPLE) == (
        "GET\n/open/api/v1/workorders\n"
        "app_key=hub&end_time=2025-05-23%2015%3A00%3A00&nonce=abcdefgh12345678&page_no=1"
        "&page_size=50&start_time=2025-05-23%2014%3A00%3A00&timestamp=1748000000000"
    )


def test_worked_example_sign() -> None:
    assert sign("unionhub-test-secret", "GET", "/open/api/v1/workorders", EXAMPLE) == EXPECTED_SIGN


def test_sign_ignores_a_sign_parameter_and_parameter_order() -> None:
    shuffled = dict(reversed(list(EXAMPLE.items())))
    shuffled["sign"] = "whatever"
    assert sign("unionhub-test-secret", "GET", "/open/api/v1/workorders", shuffled) == (
        EXPECTED_SIGN
    )


def test_path_prefix_changes_the_signature() -> None:
    assert sign("s", "GET", "/prefix/open/api/v1/workorders", EXAMPLE) != sign(
        "s", "GET", "/open/api/v1/workorders", EXAMPLE
    )


def test_canonical_query_keeps_unreserved_and_encodes_the_rest() -> None:
    query = canonical_query({"b": "a-b_c.d~e", "a": "x y+z/中"})
    assert query == "a=x%20y%2Bz%2F%E4%B8%AD&b=a-b_c.d~e"


def test_signed_query_round_trips_to_the_same_parameters() -> None:
    query = signed_query("unionhub-test-secret", "GET", "/open/api/v1/workorders", EXAMPLE)
    params = dict(parse_qsl(query))
    assert params.pop("sign") == EXPECTED_SIGN
    assert params == EXAMPLE


def test_nonces_are_16_alphanumerics_and_not_reused() -> None:
    nonces = {new_nonce() for _ in range(500)}
    assert len(nonces) == 500
    assert all(len(n) == 16 and n.isalnum() and n.isascii() for n in nonces)
