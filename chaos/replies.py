"""The chaos run's judge of replies: what the upstreams hold against what the cases owe them.

Computed from the topics and the simulators' idempotency ledgers, sharing no
code with the sinks: every case's last state on ``cases.state`` (a merged
case's last state before its tombstone too: its replies were owed then) owes
each of its reports from ``citizen_app`` or ``hotline_12351`` one reply per
resolve and one per close (a satisfied, basically satisfied or unreachable
visit, or the auto-close). A reply is accounted for when the upstream's ledger
holds it or the sink dead-lettered the upstream's refusal (``reply_refused``
on ``intake.dlq``). ``missing`` counts owed replies accounted for by neither;
``duplicated`` replies beyond what was owed (the same reply taken twice under
two keys, or taken and refused). Both must be 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import TopicPartition

from chaos.kafka import group_reached, past_last_records
from core.kafka.reading import committed_offsets, read_to_end
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.polling import poll_until
from simulators import Simulators

REPLY_CHANNELS = ("citizen_app", "hotline_12351")
CLOSING_VISITS = frozenset({"satisfied", "basically_satisfied", "unreachable"})
Ref = tuple[str, str]


@dataclass
class ReplyFigures:
    """Replies owed, held upstream, refused, missing and duplicated; per channel held."""

    expected: int = 0
    upstream: int = 0
    refused: int = 0
    missing: int = 0
    duplicated: int = 0
    repeats_absorbed: int = 0  # keys sent again (after a crash or a lost answer), taken once

    @property
    def ok(self) -> bool:
        """Nothing owed is missing and nothing was told twice."""
        return self.missing == 0 and self.duplicated == 0


def owed(state: dict[str, Any]) -> int:
    """How many transitions of a case state its channel is told of (resolves and closes)."""
    count, resolved = 0, False
    for entry in state.get("history", []):
        action, detail = entry.get("action"), entry.get("detail")
        if action == "resolve":
            count, resolved = count + 1, True
        elif resolved and (
            action == "auto_close" or (action == "visit" and detail in CLOSING_VISITS)
        ):
            count, resolved = count + 1, False
    return count


async def owed_replies(
    settings: Settings, upto: dict[str, dict[TopicPartition, int]] | None = None
) -> Counter[Ref]:
    """Replies owed per report, from every case's last state (before a tombstone too).

    ``upto`` (channel -> partition -> offset) counts, per channel, only the states
    before that offset: what that channel's sink had been given to read.
    """
    topic = TopicCatalog(settings.namespace).cases_state
    records = await read_to_end(settings.kafka_bootstrap, topic)
    expected: Counter[Ref] = Counter()
    for channel in REPLY_CHANNELS:
        bound = (upto or {}).get(channel)
        last: dict[str, dict[str, Any]] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            if record.value is not None and (bound is None or record.offset < bound.get(tp, 0)):
                state = orjson.loads(record.value)
                last[state["case_id"]] = state
        for state in last.values():
            n = owed(state)
            for source in state.get("sources", []):
                if n and source["channel"] == channel:
                    expected[(channel, source["external_id"])] += n
    return expected


async def refused_replies(settings: Settings) -> Counter[Ref]:
    """Distinct refused replies per report (``reply_refused`` dead letters, by key)."""
    topic = TopicCatalog(settings.namespace).intake_dlq
    keys: set[tuple[str, str, str]] = set()
    for record in await read_to_end(settings.kafka_bootstrap, topic):
        letter = orjson.loads(record.value) if record.value else {}
        if letter.get("error", {}).get("kind") == "reply_refused":
            raw = orjson.loads(letter.get("raw") or "{}")
            keys.add((letter["channel"], letter["external_id"], str(raw.get("key"))))
    return Counter((channel, ext) for channel, ext, _ in keys)


async def judge_replies(
    settings: Settings, sims: Simulators, sinks: dict[str, str] | None = None
) -> ReplyFigures:
    """The figures of what the upstreams hold now against what ``cases.state`` owes.

    With ``sinks`` (channel -> sink name), what is owed is bounded by what each
    sink's group has committed: a state written after a sink was paused owes
    nothing yet.
    """
    upto = None
    if sinks is not None:
        topics = TopicCatalog(settings.namespace)
        upto = {
            channel: await committed_offsets(settings.kafka_bootstrap, topics.sink_group(name))
            for channel, name in sinks.items()
        }
    expected = await owed_replies(settings, upto)
    refused = await refused_replies(settings)
    upstream: Counter[Ref] = Counter()
    figures = ReplyFigures()
    for channel in REPLY_CHANNELS:
        for reply in sims.replies(channel):
            upstream[(channel, reply.external_id)] += 1
        figures.repeats_absorbed += sims.reply_answers(channel).get("repeat", 0)
    figures.expected = sum(expected.values())
    figures.upstream = sum(upstream.values())
    figures.refused = sum(refused.values())
    for ref in set(expected) | set(upstream) | set(refused):
        told = upstream[ref] + refused[ref]
        figures.missing += max(0, expected[ref] - told)
        figures.duplicated += max(0, told - expected[ref])
    return figures


async def sinks_idle(settings: Settings, sinks: list[str]) -> bool:
    """Whether every reply sink's group has committed past the end of ``cases.state``."""
    topics = TopicCatalog(settings.namespace)
    targets = await past_last_records(settings.kafka_bootstrap, topics.cases_state)
    for sink in sinks:
        if not await group_reached(settings.kafka_bootstrap, topics.sink_group(sink), targets):
            return False
    return True


async def wait_replies_told(
    settings: Settings, sims: Simulators, sinks: dict[str, str], timeout_s: float
) -> ReplyFigures:
    """Wait until the sinks have read all of ``cases.state`` and told all it owes."""
    last = [ReplyFigures()]

    async def told() -> bool:
        if not await sinks_idle(settings, list(sinks.values())):
            return False
        last[0] = await judge_replies(settings, sims, sinks)
        return last[0].missing == 0

    try:
        await poll_until(told, what="every owed reply told", timeout_s=timeout_s, every_s=2.0)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; the last reply figures: {last[0]}") from None
    return last[0]
