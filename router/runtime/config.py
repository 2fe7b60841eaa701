"""``StageConfig``: where a stage reads, writes and commits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageConfig:
    """Where a stage reads, writes and commits, and how patient it is with the broker."""

    name: str
    bootstrap: str
    input_topics: tuple[str, ...]
    group_id: str
    transactional_id_prefix: str
    dead_letter_topic: str
    changelog_topic: str | None = None
    max_batch_records: int = 500
    # Bytes one fetch may return per partition: room for a whole batch of records.
    max_partition_fetch_bytes: int = 1024 * 1024
    session_timeout_ms: int = 10_000
    transaction_timeout_ms: int = 60_000
    kafka_timeout_s: float = 30.0
    poll_timeout_ms: int = 200
    # Hold a partition's records up to this long (or until max_batch_records) before
    # their transaction: under a steady trickle, fewer and larger transactions.
    linger_ms: int = 0
    client_id: str | None = None
    # A topic created a moment ago may be unknown to the broker's metadata briefly.
    topic_wait_s: float = 10.0
    # How often a PunctuatingProcessor is asked what time has made due (None: never).
    punctuate_every_s: float | None = None
