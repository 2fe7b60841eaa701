"""The peer: unionhub's router logic as two Quix Streams applications, exactly-once.

The same processors (``router.stages``) do the work; Quix Streams does the
Kafka part: consuming, its own transactions (``processing_guarantee=
"exactly-once"``), and, for the dispatch stage, its own state store (RocksDB
plus changelog topic), into which every state change the processor reports
is written, as unionhub writes them to its changelog. Topology as unionhub's:
normalize (raw topics -> ``router_normalized``) and dispatch (that one
partition -> dispatch topics, alerts, dead letters), one process each.

    python -m benchmarks.quix_peer normalize|dispatch   (settings from UNIONHUB_*)
"""

from __future__ import annotations

import os
import sys
from typing import Any

from quixstreams import Application, State, message_context
from quixstreams.models.serializers import Serializer

from core.kafka.clients import configure_clients, quix_application
from core.kafka.topics import TopicCatalog
from core.logging import configure_logging
from core.settings import Settings
from router.processor import InputRecord, Output
from router.stages import build_dispatch_processor, build_normalize_processor


class _OutputValue(Serializer):
    """Writes an :class:`Output`'s value bytes as they are."""

    def __call__(self, value: Output, ctx: object) -> bytes:
        return value.value


def _input(value: bytes, key: bytes | None, timestamp: int, headers: Any) -> InputRecord:
    context = message_context()
    return InputRecord(
        topic=context.topic,
        partition=context.partition,
        offset=context.offset,
        key=key,
        value=value,
        headers=tuple((name, bytes(v)) for name, v in (headers or ())),
        timestamp_ms=timestamp,
    )


def build_app(settings: Settings, stage: str) -> Application:
    """The Quix application of ``stage`` (``normalize`` or ``dispatch``), ready to run."""
    catalog = TopicCatalog(settings.namespace)
    app = quix_application(
        settings.kafka_bootstrap,
        consumer_group=f"{settings.namespace}quix-{stage}",
        processing_guarantee="exactly-once",
        auto_offset_reset="earliest",
        state_dir=str(settings.state_dir / f"quix-{settings.namespace}{stage}"),
        auto_create_topics=True,
    )
    names = [
        catalog.router_normalized,
        catalog.router_dlq,
        catalog.alerts,
        catalog.sla_alerts,
        catalog.cases_state,
        *catalog.dispatch_topics(),
    ]
    outputs = {
        name: app.topic(name, value_serializer=_OutputValue(), key_serializer="bytes")
        for name in names
    }

    def select(value: Output, key: Any, timestamp: int, headers: Any) -> Any:
        return outputs[value.topic]

    def headers_of(value: Output, key: Any, timestamp: int, headers: Any) -> list[Any]:
        return list(value.headers)

    if stage == "normalize":
        normalize = build_normalize_processor(settings)

        def normalized(value: bytes, key: bytes | None, timestamp: int, headers: Any) -> Any:
            return normalize.process(_input(value, key, timestamp, headers))

        for raw in catalog.raw_topics():
            topic = app.topic(raw, value_deserializer="bytes", key_deserializer="bytes")
            sdf = app.dataframe(topic).apply(normalized, expand=True, metadata=True)
            sdf = sdf.set_headers(headers_of)
            sdf.to_topic(select, key=lambda o: o.key)
    elif stage == "dispatch":
        dispatch = build_dispatch_processor(settings)

        def dispatched(
            value: bytes, key: bytes | None, timestamp: int, headers: Any, state: State[Any, Any]
        ) -> Any:
            results = dispatch.process(_input(value, key, timestamp, headers))
            for change_key, change in dispatch.take_changes():
                if change is None:
                    state.delete(change_key.decode())
                else:
                    state.set(change_key.decode(), change.decode())
            return results

        topic = app.topic(
            catalog.router_normalized, value_deserializer="bytes", key_deserializer="bytes"
        )
        sdf = app.dataframe(topic).apply(dispatched, stateful=True, expand=True, metadata=True)
        sdf = sdf.set_headers(headers_of)
        sdf.to_topic(select, key=lambda o: o.key)
    else:
        raise ValueError(f"unknown stage {stage!r}: normalize or dispatch")
    return app


def main(argv: list[str]) -> int:
    """Run one stage until SIGTERM/SIGINT."""
    settings = Settings()
    configure_logging(settings)
    configure_clients(settings, os.environ)
    build_app(settings, argv[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
