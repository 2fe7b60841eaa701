"""Which failures inside a transaction need a new producer, and which are a record's own fault.

aiokafka reports a fenced or broken transactional producer through several
unrelated exception types; once one of them is seen, the producer cannot be
used again and a new one (a new ``InitProducerId``) must replace it.
"""

from __future__ import annotations

from aiokafka.errors import (
    IllegalStateError,
    InvalidProducerEpoch,
    InvalidTxnState,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    RecordTooLargeError,
    TransactionalIdAuthorizationFailed,
    UnknownProducerId,
)

# Another process took over our transactional id: it owns the partition now.
_FENCED: tuple[type[BaseException], ...] = (ProducerFenced, InvalidProducerEpoch)

# The producer is unusable (or its state unknown): replace it.
_FATAL: tuple[type[BaseException], ...] = (
    *_FENCED,
    KafkaTimeoutError,
    TimeoutError,
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidTxnState,
    IllegalStateError,
    ProducerClosed,
    TransactionalIdAuthorizationFailed,
    AssertionError,  # aiokafka asserts on invalid transaction state transitions
)

# The broker refuses this record whatever we retry: dead-letter it.
_RECORD_FAULTS: tuple[type[BaseException], ...] = (RecordTooLargeError, MessageSizeTooLargeError)


def is_fenced(exc: BaseException) -> bool:
    """True when a newer producer with our transactional id exists (we lost the partition)."""
    return isinstance(exc, _FENCED)


def needs_new_producer(exc: BaseException) -> bool:
    """True when the transactional producer must be closed and re-created after ``exc``."""
    return isinstance(exc, _FATAL)


def is_record_fault(exc: BaseException) -> bool:
    """True when ``exc`` is caused by the record or its outputs, so retrying cannot help.

    Anything that is not a Kafka error (a processor bug, an output of the
    wrong type) counts, as do the broker's size limits.
    """
    if isinstance(exc, _RECORD_FAULTS):
        return True
    return not isinstance(exc, KafkaError | TimeoutError | OSError | AssertionError)
