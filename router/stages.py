"""The router's two stages for the exactly-once runtime (``router.processor``).

Stage 1 (:func:`build_normalize_processor`, stateless, scales out):
``intake.raw.<channel>`` -> ``router_normalized`` (one normalised report per
record version) or a dead letter on ``router.dlq``; see
:mod:`router.normalize.processor`.

Stage 2 (:func:`build_dispatch_processor`, stateful, one owner):
``router_normalized`` -> dispatch events and alerts, state in the compacted
changelog ``router_state``; see :mod:`router.dedupe.processor`.
"""

from __future__ import annotations

from pathlib import Path

from router.dedupe.processor import DispatchProcessor, event_id_for
from router.normalize.normalizer import Normalizer
from router.normalize.processor import NormalizeProcessor
from router.normalize.records import UnreadableRecordError, source_of
from router.processor import Processor, StatefulProcessor
from unionhub.kafka.topics import TopicCatalog
from unionhub.settings import Settings

__all__ = [
    "DispatchProcessor",
    "NormalizeProcessor",
    "UnreadableRecordError",
    "build_dispatch_processor",
    "build_normalize_processor",
    "dispatch_state_root",
    "event_id_for",
    "source_of",
]


def build_normalize_processor(settings: Settings) -> Processor:
    """Stage 1 processor for ``settings`` (topics of its namespace, its pseudonym key)."""
    return NormalizeProcessor(
        TopicCatalog(settings.namespace),
        Normalizer(settings.pseudonym_key.get_secret_value().encode()),
    )


def build_dispatch_processor(settings: Settings) -> StatefulProcessor:
    """Stage 2 processor for ``settings`` (topics of its namespace).

    Its local state store lives under ``<state_dir>/router/<namespace>dispatch``
    (a private slot per process; opened on first use).
    """
    return DispatchProcessor(
        TopicCatalog(settings.namespace),
        state_root=dispatch_state_root(settings),
    )


def dispatch_state_root(settings: Settings) -> Path:
    """Where the dispatch stage's store slots of ``settings``' namespace live."""
    return settings.state_dir / "router" / f"{settings.namespace}dispatch"
