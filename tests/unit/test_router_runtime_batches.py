"""Pure parts of the runtime's batch writer and of the id encoding (no broker)."""

from __future__ import annotations

import base64
import random

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from core.ids import _b32, digest_id
from router.runtime.batches import partition_for


@given(st.binary(min_size=0, max_size=64), st.integers(min_value=1, max_value=64))
def test_a_keyed_record_goes_where_send_would_put_it(key: bytes, count: int) -> None:
    partitions = list(range(count))
    assert partition_for(key, partitions, partitions) == DefaultPartitioner()(
        key, partitions, partitions
    )


def test_a_record_without_key_goes_to_an_available_partition() -> None:
    random.seed(7)
    seen = {partition_for(None, [0, 1, 2], [1, 2]) for _ in range(200)}
    assert seen == {1, 2}
    assert partition_for(None, [4], []) == 4


@given(st.binary(min_size=32, max_size=32), st.integers(min_value=1, max_value=51))
def test_b32_is_the_lowercase_base32_prefix(digest: bytes, length: int) -> None:
    needed = digest[: (5 * length + 7) // 8]
    expected = base64.b32encode(needed).decode().lower().rstrip("=")[:length]
    assert _b32(digest, length) == expected


def test_digest_ids_are_stable() -> None:
    # Ids must never change (events, cases and traces are keyed by them): base64.b32encode
    # gave this value before _b32 was rewritten.
    assert digest_id("case", "citizen_app", "A-1") == "ulvtle7l3tatv4uxiqrmzupzpm"
