"""The leak scan: personal numbers and secrets in log files and in non-restricted topics.

Only ``intake.raw.*`` and the two dead-letter topics may hold personal data in
clear (they are restricted, see dispatch.md); no topic and no log line may hold
a secret. The scan looks for every personal number of the scenario in any
written form, with the checker's independent detector
(:class:`checker.pii.KnownNumbers`, which shares no code with the masker it
judges), and for every secret the run handed out as an exact string.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from chaos.kafka import namespace_topics
from checker.pii import KnownNumbers
from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from simulators import Simulators


def pii_terms(sims: Simulators) -> list[str]:
    """Every personal number of the scenario: each person's mobile, landline and ID number
    (also those only typed into complaint texts), and every identity the truth read."""
    terms = set(sims.scenario.personal_numbers())
    for report in sims.scenario.truth.reports.values():
        terms.update(t for t in (report.id_number, report.phone) if t)
    return sorted(terms)


@dataclass
class ScanResult:
    """Hits of the scan: per place (a log file or a topic), how many terms were found there."""

    logs_scanned: int = 0
    log_bytes: int = 0
    topics_scanned: int = 0
    records_scanned: int = 0
    pii_hits: Counter[str] = field(default_factory=Counter)
    secret_hits: Counter[str] = field(default_factory=Counter)

    @property
    def hits(self) -> int:
        """Every hit, personal numbers and secrets together."""
        return sum(self.pii_hits.values()) + sum(self.secret_hits.values())

    def format(self) -> str:
        """A few lines: what was scanned, what was found where (never the terms themselves)."""
        lines = [
            f"scanned {self.logs_scanned} log files ({self.log_bytes} bytes) and "
            f"{self.records_scanned} records of {self.topics_scanned} topics",
            f"personal numbers found  {sum(self.pii_hits.values())}",
            f"secrets found           {sum(self.secret_hits.values())}",
        ]
        for kind, hits in (("personal numbers", self.pii_hits), ("secrets", self.secret_hits)):
            lines += [f"  {count} {kind} in {place}" for place, count in sorted(hits.items())]
        return "\n".join(lines)


def restricted(catalog: TopicCatalog, topic: str) -> bool:
    """Whether ``topic`` may hold personal data in clear (raw intake and dead letters)."""
    return topic in catalog.raw_topics() or topic in (catalog.intake_dlq, catalog.router_dlq)


def _count(text: bytes, terms: Iterable[bytes]) -> int:
    return sum(1 for term in terms if term in text)


def scan_logs(
    paths: Iterable[Path], pii: Iterable[str], secrets: Iterable[str], result: ScanResult
) -> None:
    """Add the hits of every file in ``paths`` (that exists) to ``result``."""
    known = KnownNumbers.of(pii)
    secret_bytes = [t.encode() for t in secrets if t]
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        result.logs_scanned += 1
        result.log_bytes += len(data)
        if found := known.found(data.decode("utf-8", "replace")):
            result.pii_hits[str(path)] += found
        if found := _count(data, secret_bytes):
            result.secret_hits[str(path)] += found


async def scan_topics(
    bootstrap: str, namespace: str, pii: Iterable[str], secrets: Iterable[str], result: ScanResult
) -> None:
    """Add the hits of every record (key, value, headers) of the namespace's topics.

    Restricted topics are scanned for secrets only. Aborted transactions'
    records are read too: they sit in the log files like any other.
    """
    catalog = TopicCatalog(namespace)
    known = KnownNumbers.of(pii)
    secret_bytes = [t.encode() for t in secrets if t]
    topics = await namespace_topics(bootstrap, namespace)
    result.topics_scanned += len(topics)
    for record in await read_to_end(bootstrap, *topics, committed=False):
        result.records_scanned += 1
        parts = [record.key or b"", record.value or b""]
        parts += [bytes(v or b"") for _, v in record.headers or ()]
        blob = b"\x00".join(parts)
        text = blob.decode("utf-8", "replace")
        if not restricted(catalog, record.topic) and (found := known.found(text)):
            result.pii_hits[f"topic {record.topic}"] += found
        if found := _count(blob, secret_bytes):
            result.secret_hits[f"topic {record.topic}"] += found
