"""The reply side of citizen_app and hotline_12351 (caseloop.md "Telling the channel").

What both reply endpoints share: the idempotency ledger (:class:`ReplyLedger`,
the judge of "exactly once from the upstream's side": a key already taken is
answered as a success and changes nothing), the runtime record versions a reply
creates (appended to the scenario, so ``expected_versions()`` and the ground
truth include them as ``case_updated`` updates, and the record's unreleased
scenario versions withdrawn: the record was closed by the answer), and the
status endpoints ``GET {prefix}/_sim/status`` that count requests, faults and
replies.

Where caseloop.md is silent: "already closed upstream" (409, 40901) means closed
by the upstream's own process (a scenario version, or :meth:`Simulators.close_upstream`);
a record that a unionhub reply closed still takes that case's later replies (the
close after the resolve, a resolve after a reopening), each as one more version.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from aiohttp import web

from simulators.scenario.model import RecordVersion
from simulators.servers.ledger import Reply, ReplyLedger
from simulators.servers.state import ServerState, json_response

__all__ = ["Reply", "ReplyLedger", "append_version", "status_route", "withdraw_unreleased"]

REPLY_FAULTS = ("drop", "drop_after")  # drop_after: the reply is taken, the answer lost
STATUS_PATH = "/_sim/status"


def append_version(
    state: ServerState, base: RecordVersion, record: dict[str, object], label: str, at: datetime
) -> RecordVersion:
    """A new runtime version of ``base``'s record, served from now and known to the scenario."""
    now = state.now()
    version = replace(base, version=label, at=at, visible_at=now, record=record, malformed=None)
    scenario = state.scenario
    scenario.versions.append(version)
    scenario.served_changed()
    return version


def withdraw_unreleased(state: ServerState, channel: str, external_id: str) -> None:
    """Remove the record's scenario versions not served yet: its answer closed it."""
    if state.released_all:
        return
    now = state.now()
    state.scenario.versions[:] = [
        v
        for v in state.scenario.versions
        if not (v.channel.value == channel and v.external_id == external_id and v.visible_at > now)
    ]


def status_route(state: ServerState, prefix: str, channel: str) -> web.RouteDef:
    """``GET {prefix}/_sim/status``: requests, faults and replies of ``channel`` so far."""

    async def status(_: web.Request) -> web.Response:
        ledger = state.replies
        faults = {
            k.split(".", 1)[1]: n for k, n in state.faults.counts().items() if k.startswith(channel)
        }
        answers = {
            k.split(".", 1)[1]: n for k, n in ledger.answers.items() if k.startswith(channel + ".")
        }
        replies = ledger.replies(channel)
        return json_response(
            {
                "channel": channel,
                "requests": state.faults.requests.get(channel, 0),
                "faults": faults,
                "replies": {
                    "taken": len(replies),
                    "records": len({r.external_id for r in replies}),
                    "by_kind": dict(Counter(r.kind for r in replies)),
                    "answers": answers,
                },
            }
        )

    return web.get(prefix + STATUS_PATH, status)
