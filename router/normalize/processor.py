"""Stage 1 of the router as a runtime processor: raw envelope -> normalised report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core.kafka.topics import TopicCatalog
from router.errors import NormalizeError, UnreadableRecordError
from router.normalize.actions import check_action
from router.normalize.normalizer import Normalizer
from router.processor import InputRecord, Output
from router.records import (
    channel_guess,
    dead_letter,
    header,
    source_of,
)
from schemas.complaint import NORMALIZED_SCHEMA
from schemas.raw import utc_now

Clock = Callable[[], datetime]


class NormalizeProcessor:
    """Stage 1: raw envelope -> normalised report; case action -> checked action; or a
    dead letter."""

    def __init__(self, catalog: TopicCatalog, normalizer: Normalizer, clock: Clock = utc_now):
        self._catalog = catalog
        self._normalizer = normalizer
        self._clock = clock

    def process(self, record: InputRecord) -> list[Output]:
        """One normalised report (or checked action) on ``router_normalized``, or a dead letter."""
        actor = self._catalog.actor_of(record.topic)
        if actor is not None:
            return [check_action(self._catalog, actor, record, self._clock())]
        connector, external_id = "unknown", None
        try:
            envelope = self._normalizer.parse_envelope(record.value)
            connector, external_id = envelope.connector, envelope.external_id
            report = self._normalizer.normalize(
                envelope, source_of(record), header(record, "trace_id")
            )
        except NormalizeError as exc:
            channel = channel_guess(record, self._catalog)
            if channel is None:
                raise UnreadableRecordError(exc.kind, "input record names no channel") from exc
            if external_id is None and record.key:
                external_id = record.key.decode("utf-8", "replace")
            return [
                dead_letter(
                    self._catalog,
                    record,
                    channel,
                    connector,
                    external_id,
                    exc.kind,
                    exc.message,
                    self._clock(),
                )
            ]
        return [
            Output(
                topic=self._catalog.router_normalized,
                key=f"{report.channel}:{report.external_id}".encode(),
                value=report.to_json(),
                headers=(
                    ("schema", NORMALIZED_SCHEMA.encode()),
                    ("channel", str(report.channel).encode()),
                    ("trace_id", report.trace_id.encode()),
                ),
            )
        ]
