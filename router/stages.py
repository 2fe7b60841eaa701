"""The router's two stages: how each is wired to Kafka and which processor it runs.

Stage 1, *normalize* (:func:`normalize_stage_config`, :func:`build_normalize_processor`),
is stateless: every ``intake.raw.*`` partition in, one normalised report per
record version out to the one-partition ``unionhub.router.normalized`` (or a
dead letter to ``router.dlq``); it scales out over as many processes as there
are input partitions. See :mod:`router.normalize`.

Stage 2, *dispatch* (:func:`dispatch_stage_config`, :func:`build_dispatch_processor`),
is stateful: that one partition in, dispatch events and alerts out, its state in
the compacted changelog ``unionhub.router.state``; exactly one process owns it,
the others stand by. See :mod:`router.dispatch`.
"""

from __future__ import annotations

from pathlib import Path

from caseloop.calendar import WorkingDayCalendar
from caseloop.loopclock import LoopClock
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.dispatch.loop import CalendarSource, LoopSettings
from router.dispatch.processor import DispatchProcessor
from router.normalize.normalizer import Normalizer
from router.normalize.processor import NormalizeProcessor
from router.runtime import StageConfig

NORMALIZE_STAGE = "normalize"
DISPATCH_STAGE = "dispatch"

# Records per transaction at most (one poll): fewer, larger transactions when there is
# a backlog (each costs five round trips and a marker per partition written); under a
# steady load a poll holds what arrived since the last one, whatever this is.
MAX_BATCH_RECORDS = 2000
# A fetch per partition large enough for such a batch (reports are 1 to 3 KB).
MAX_PARTITION_FETCH_BYTES = 4 * 1024 * 1024
# Under a steady load, stage 1's 15 input partitions would each commit a transaction of
# a few records per poll: hold each partition's records up to this long first. Stage 2
# reads one partition, so holds briefly only.
NORMALIZE_LINGER_MS = 100
DISPATCH_LINGER_MS = 20


# How often the dispatch stage raises what the passing of time made due (SLA levels):
# within this of their due time while running, at once after a restart.
PUNCTUATE_EVERY_S = 1.0


def normalize_stage_config(settings: Settings, client_id: str | None = None) -> StageConfig:
    """Stage 1's wiring: every raw topic (and, with the case loop, every action topic) in,
    ``router_normalized`` (via the processor) out."""
    topics = TopicCatalog(settings.namespace)
    group = topics.router_group(NORMALIZE_STAGE)
    actions = topics.action_topics() if settings.case_loop else []
    return StageConfig(
        name=NORMALIZE_STAGE,
        bootstrap=settings.kafka_bootstrap,
        input_topics=(*topics.raw_topics(), *actions),
        group_id=group,
        transactional_id_prefix=group,
        dead_letter_topic=topics.router_dlq,
        session_timeout_ms=settings.router_session_timeout_ms,
        client_id=client_id,
        max_batch_records=MAX_BATCH_RECORDS,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        linger_ms=NORMALIZE_LINGER_MS,
    )


def dispatch_stage_config(settings: Settings, client_id: str | None = None) -> StageConfig:
    """Stage 2's wiring: ``router_normalized`` in, state in the ``router_state`` changelog."""
    topics = TopicCatalog(settings.namespace)
    group = topics.router_group(DISPATCH_STAGE)
    return StageConfig(
        name=DISPATCH_STAGE,
        bootstrap=settings.kafka_bootstrap,
        input_topics=(topics.router_normalized,),
        group_id=group,
        transactional_id_prefix=group,
        dead_letter_topic=topics.router_dlq,
        changelog_topic=topics.router_state,
        session_timeout_ms=settings.router_session_timeout_ms,
        client_id=client_id,
        max_batch_records=MAX_BATCH_RECORDS,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        linger_ms=DISPATCH_LINGER_MS,
        punctuate_every_s=PUNCTUATE_EVERY_S if settings.case_loop else None,
    )


def build_normalize_processor(settings: Settings) -> NormalizeProcessor:
    """Stage 1 processor for ``settings`` (topics of its namespace, its pseudonym key)."""
    return NormalizeProcessor(
        TopicCatalog(settings.namespace),
        Normalizer(settings.pseudonym_key.get_secret_value().encode()),
    )


def build_dispatch_processor(
    settings: Settings, calendar: CalendarSource | None = None
) -> DispatchProcessor:
    """Stage 2 processor for ``settings`` (topics of its namespace; the case loop when
    ``settings.case_loop``, on ``calendar``, the shipped working-day calendar by default).

    Its local state store lives under ``<state_dir>/router/<namespace>dispatch``
    (a private slot per process; opened on first use).
    """
    loop = None
    if settings.case_loop:
        shipped = WorkingDayCalendar()
        loop = LoopSettings(
            calendar=calendar or (lambda: shipped),
            clock=LoopClock(settings.loop_speed, settings.loop_anchor),
        )
    return DispatchProcessor(
        TopicCatalog(settings.namespace),
        state_root=dispatch_state_root(settings),
        loop=loop,
    )


def dispatch_state_root(settings: Settings) -> Path:
    """Where the dispatch stage's store slots of ``settings``' namespace live."""
    return settings.state_dir / "router" / f"{settings.namespace}dispatch"
