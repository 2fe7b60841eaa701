"""``unionhub cases show|list|act``: operators look at cases and act for a district.

Thin over :mod:`unionhub.cases`: states are read from ``cases.state``; an
action is checked with the router's own rules, written to the actor's action
topic, and followed until the router applied or refused it.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

import orjson

from caseloop.loopclock import LoopClock
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from schemas.caseloop import ActionKind, CaseState, ResolveResult, Satisfaction
from unionhub.cases.actions import ActionSender, build_action, precheck
from unionhub.cases.follow import ActionFollower
from unionhub.cases.topicview import read_case_states

FOLLOW_S = 15.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``cases`` command group."""
    parser = subparsers.add_parser("cases", help="show, list and act on cases (the case loop)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="one case's state (JSON)")
    show.add_argument("case_id")
    show.set_defaults(handler=_show)
    listing = verbs.add_parser("list", help="cases, latest change first")
    listing.add_argument("--district", help="district slug")
    listing.add_argument("--status", help="dispatched, accepted, in_progress, ...")
    listing.add_argument("--overdue", action="store_true", help="only cases past a deadline")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)
    act = verbs.add_parser("act", help="act on a case as a district or the city desk")
    act.add_argument("case_id")
    act.add_argument("action", choices=[a.value for a in ActionKind])
    act.add_argument("--as", dest="actor", required=True, help="district slug or 'city'")
    act.add_argument("--result", choices=[r.value for r in ResolveResult])
    act.add_argument("--to", dest="to_district", help="assign/return: a district slug")
    act.add_argument("--satisfaction", choices=[s.value for s in Satisfaction])
    act.add_argument("--reason", help="free text (personal numbers are masked)")
    act.add_argument("--action-id", help="idempotency key (default: a new one)")
    act.set_defaults(handler=_act)


def _show(settings: Settings, args: argparse.Namespace) -> int:
    catalog = TopicCatalog(settings.namespace)
    case = asyncio.run(read_case_states(settings.kafka_bootstrap, catalog)).get(args.case_id)
    if case is None:
        print(f"unionhub cases: no case {args.case_id}")
        return 1
    print(orjson.dumps(case.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    catalog = TopicCatalog(settings.namespace)
    states = asyncio.run(read_case_states(settings.kafka_bootstrap, catalog)).values()
    now = LoopClock(settings.loop_speed, settings.loop_anchor).now()
    chosen = [
        c
        for c in states
        if (args.district is None or c.district == args.district)
        and (args.status is None or c.status == args.status)
        and (not args.overdue or _overdue(c, now))
    ]
    chosen.sort(key=lambda c: c.updated_at, reverse=True)
    print(f"{'case':<34} {'district':<10} {'status':<12} {'urgency':<10} next deadline")
    for case in chosen[: args.limit]:
        dues = [c.due_at for c in case.clocks.values() if c.state == "running" and c.due_at]
        due = min(dues).isoformat(timespec="minutes") if dues else "-"
        print(
            f"{case.case_id:<34} {case.district or 'triage':<10} {case.status:<12} "
            f"{case.urgency:<10} {due}"
        )
    print(f"{len(chosen)} case(s)")
    return 0


def _act(settings: Settings, args: argparse.Namespace) -> int:
    catalog = TopicCatalog(settings.namespace)
    clock = LoopClock(settings.loop_speed, settings.loop_anchor)
    body = {
        "action": args.action,
        "result": args.result,
        "to_district": args.to_district,
        "satisfaction": args.satisfaction,
        "reason": args.reason,
        "action_id": args.action_id,
    }
    action = build_action(args.actor, args.case_id, body, clock.now())

    async def run() -> int:
        states = await read_case_states(settings.kafka_bootstrap, catalog)
        precheck(states.get(args.case_id), action)
        sender = ActionSender(settings.kafka_bootstrap, catalog)
        async with ActionFollower(settings.kafka_bootstrap, catalog) as follower:
            try:
                await sender.send(action)
            finally:
                await sender.close()
            outcome = await follower.outcome(action, FOLLOW_S)
        if outcome.refused is not None:
            print(f"unionhub cases: refused: {outcome.refused}")
            return 1
        if outcome.state is None:
            print(f"sent {action.action_id}; not applied within {FOLLOW_S:.0f}s (router down?)")
            return 3
        print(f"applied {action.action_id}: {_summary(outcome.state)}")
        return 0

    return asyncio.run(run())


def _overdue(case: CaseState, now: datetime) -> bool:
    return any(
        c.state == "running" and c.due_at is not None and c.due_at <= now
        for c in case.clocks.values()
    )


def _summary(case: CaseState) -> str:
    return f"{case.case_id} is {case.status} in {case.district or 'triage'} (v{case.version})"
