"""Which replies a case state owes the worker's channel, and each reply's idempotency key.

A case's history holds every transition the channel is told of
(caseloop.md "Telling the channel"): each ``resolve`` (kind ``resolved``) and
each close, a satisfied, basically satisfied or unreachable ``visit`` or an
``auto_close`` (kind ``closed``). Every report of the case from the sink's
channel gets one reply per transition. The key is a digest of (channel, report,
kind, the transition's history id): the same transition always gives the same
key, so a reply sent again after a crash is the same reply to the upstream, and
a case reopened and resolved again (a new resolve id) gets a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from schemas.caseloop import CaseState, HistoryEntry, ResolveResult
from schemas.channels import Channel

KEY_PREFIX = "uh1"
CLOSING_VISITS = frozenset({"satisfied", "basically_satisfied", "unreachable"})
RESULT_WORDS = {
    ResolveResult.RESOLVED.value: "已解决",
    ResolveResult.PARTLY_RESOLVED.value: "部分解决",
    ResolveResult.EXPLAINED.value: "已解释说明",
    ResolveResult.REFERRED.value: "已转办",
}


@dataclass(frozen=True)
class Transition:
    """One transition the channel is told of: its kind, history id and the resolve's words."""

    kind: str  # resolved | closed
    entry_id: str
    at: datetime  # when it happened (the reply's time: the same on every send)
    result: str  # the resolve's result (a close repeats the resolve it closes)
    reason: str | None  # the resolve's reason, masked by the router


@dataclass(frozen=True)
class ReplyTask:
    """One reply to send: to which report, under which key, about which transition."""

    case_id: str
    channel: Channel
    external_id: str
    key: str
    transition: Transition

    def words(self) -> str:
        """What the worker reads: the outcome in words, then the district's reason."""
        word = RESULT_WORDS.get(self.transition.result, self.transition.result)
        head = f"办结：{word}" if self.transition.kind == "resolved" else f"结案：{word}"
        return f"{head}。{self.transition.reason}" if self.transition.reason else head


def reply_key(channel: Channel, external_id: str, kind: str, entry_id: str) -> str:
    """The idempotency key of one reply: deterministic, 32 hex characters after a prefix."""
    text = "\x1f".join((str(channel), external_id, kind, entry_id))
    return f"{KEY_PREFIX}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def transitions(state: CaseState) -> list[Transition]:
    """Every resolve and close in ``state``'s history, oldest first."""
    found: list[Transition] = []
    last: HistoryEntry | None = None  # the resolve a close closes
    for entry in state.history:
        if entry.action == "resolve":
            last = entry
            found.append(
                Transition("resolved", entry.action_id, entry.at, entry.detail or "", entry.reason)
            )
        elif last is not None and _closes(entry):
            found.append(
                Transition("closed", entry.action_id, entry.at, last.detail or "", last.reason)
            )
            last = None
    return found


def _closes(entry: HistoryEntry) -> bool:
    return entry.action == "auto_close" or (
        entry.action == "visit" and entry.detail in CLOSING_VISITS
    )


def reply_tasks(state: CaseState, channel: Channel) -> list[ReplyTask]:
    """Every reply ``state`` owes the reports of ``channel`` (done or not), in order."""
    reports = sorted({s.external_id for s in state.sources if s.channel == channel})
    return [
        ReplyTask(state.case_id, channel, ext, reply_key(channel, ext, t.kind, t.entry_id), t)
        for t in transitions(state)
        for ext in reports
    ]
