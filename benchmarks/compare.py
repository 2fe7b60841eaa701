"""Whether two runs produced the same dispatch output.

Exact: the multiset of (case_id, event_type, report) of every dispatch event.
Case ids and the first-report event type (``new_case`` / ``duplicate_report`` /
``case_merged``) depend on which report of a case reaches the dedupe stage
first, and stage 1 interleaves fifteen input partitions as records come, in
unionhub as in any Kafka application: two runs agree exactly only when they
happened to see the same order. So the order-independent content is checked
as well: the final cases (connected by ``case_id`` and ``merged_case_ids``,
named by their smallest report), the event class (first version or
``case_updated``), the report and the topic of every event. That must be equal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

Ref = tuple[str, str, str]


@dataclass(frozen=True)
class DispatchOutput:
    """The dispatch events of one run: (topic, decoded event) each."""

    events: list[tuple[str, dict[str, Any]]]

    @classmethod
    def of(cls, records: list[Any]) -> DispatchOutput:
        """From committed records of the dispatch topics (aiokafka ``ConsumerRecord``)."""
        return cls([(r.topic.rsplit(".", 1)[-1], orjson.loads(r.value)) for r in records])

    def exact(self) -> Counter[tuple[str, str, Ref]]:
        """The (case_id, event_type, report) multiset."""
        return Counter((e["case_id"], e["event_type"], _ref(e)) for _, e in self.events)

    def canonical(self) -> Counter[tuple[Ref, str, Ref, str]]:
        """(final case, event class, report, topic), independent of arrival order."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for _, e in self.events:
            for merged in e.get("merged_case_ids") or ():
                parent[find(merged)] = find(e["case_id"])
            find(e["case_id"])
        smallest: dict[str, Ref] = {}
        for _, e in self.events:
            root = find(e["case_id"])
            ref = _ref(e)
            if root not in smallest or ref < smallest[root]:
                smallest[root] = ref
        return Counter(
            (
                smallest[find(e["case_id"])],
                "update" if e["event_type"] == "case_updated" else "first",
                _ref(e),
                topic,
            )
            for topic, e in self.events
        )


@dataclass(frozen=True)
class Comparison:
    """How two runs' dispatch outputs compare."""

    events: tuple[int, int]
    exact_equal: bool
    exact_differences: int
    canonical_equal: bool
    canonical_differences: int

    @property
    def same_work(self) -> bool:
        """The order-independent content is equal (same events, cases, reports, topics)."""
        return self.canonical_equal


def compare(a: DispatchOutput, b: DispatchOutput) -> Comparison:
    """Compare two runs (see the module doc)."""
    ea, eb = a.exact(), b.exact()
    ca, cb = a.canonical(), b.canonical()
    return Comparison(
        events=(len(a.events), len(b.events)),
        exact_equal=ea == eb,
        exact_differences=sum(((ea - eb) + (eb - ea)).values()),
        canonical_equal=ca == cb,
        canonical_differences=sum(((ca - cb) + (cb - ca)).values()),
    )


def _ref(event: dict[str, Any]) -> Ref:
    report = event["report"]
    return (report["channel"], report["external_id"], report["version"])
