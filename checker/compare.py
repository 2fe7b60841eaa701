"""Comparing what a run published with a scenario's ground truth: :func:`check`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from checker.events import (
    MOVE_EVENTS,
    DeadLetterSeen,
    Event,
    PublishedAlert,
    is_action_refusal,
    is_reply_refusal,
    parse_alert,
    parse_dead_letter,
    parse_event,
    placement_target,
)
from checker.expectations import Expectations, ExpectedAlert, ExpectedDeadLetter, Ref, VersionKey
from checker.observed import Observed
from checker.partition import PublishedCases
from checker.pii import KnownNumbers, leaks
from checker.report import CheckReport

PETITION_WINDOW = "petition_window"


def check(
    expectations: Expectations,
    observed: Observed,
    *,
    live: bool = True,
    pii_terms: Iterable[str] = (),
) -> CheckReport:
    """The figures of ``observed`` against ``expectations``.

    ``live``: the connectors ran while upstream changed, so superseded versions
    may have been dispatched too and the live event types apply; ``False``
    demands the settled view exactly. ``pii_terms`` are strings (a scenario's
    ID and phone numbers, found in any written form; other terms literally)
    that must appear in no dispatch or alert value.

    The case loop's own messages (``case_returned`` / ``case_assigned`` events,
    refused actions on ``router.dlq``) are left to :func:`checker.loop.check_loop`;
    a case's events after such a move are expected where it moved.
    """
    report = CheckReport()
    terms = KnownNumbers.of(pii_terms)
    deliveries: list[Event] = []
    moves: list[Event] = []
    for message in observed.dispatch:
        event = parse_event(message)
        if event is None:
            report.malformed_messages += 1
            report.note(f"malformed dispatch message {message.topic}@{message.offset}")
            continue
        (moves if event.event_type in MOVE_EVENTS else deliveries).append(event)
    for message in [*observed.dispatch, *observed.alerts]:
        if message.value is not None and leaks(message.value, terms):
            report.pii_leaks += 1
            report.note(f"personal number in clear in {message.topic}@{message.offset}")
    events = {e.event_id: e for e in deliveries}  # a case_merged on several topics counts once
    report.events = len(events)
    dead = _parse_dead_letters(observed, report)
    _count_versions(expectations, deliveries, dead, live, report)
    _check_event_types(expectations, events.values(), live, report)
    _check_routing(expectations, deliveries, moves, report)
    cases = PublishedCases(events.values())
    _check_partition(expectations, cases, report)
    _check_alerts(expectations, observed, cases, report)
    _check_dead_letters(expectations, dead, report)
    return report


def _parse_dead_letters(observed: Observed, report: CheckReport) -> list[DeadLetterSeen]:
    out: list[DeadLetterSeen] = []
    for message in observed.dead_letters:
        if is_action_refusal(message.value):
            continue  # a refused case action (channel null): the loop check's
        if is_reply_refusal(message.value):
            continue  # an upstream refused a reply: no record of it was lost (chaos judges)
        letter = parse_dead_letter(message)
        if letter is None:
            report.malformed_messages += 1
            report.note(f"malformed dead letter {message.topic}@{message.offset}")
        else:
            out.append(letter)
    return out


def _count_versions(
    expectations: Expectations,
    deliveries: list[Event],
    dead: list[DeadLetterSeen],
    live: bool,
    report: CheckReport,
) -> None:
    """lost, dispatched twice, unexpected versions."""
    event_ids: dict[VersionKey, set[str]] = defaultdict(set)
    copies: Counter[tuple[VersionKey, str, str]] = Counter()
    for e in deliveries:
        event_ids[e.key].add(e.event_id)
        copies[(e.key, e.target, e.event_id)] += 1
    report.versions_expected = len(expectations.settled)
    report.versions_dispatched = len(event_ids)
    twice = {key for key, ids in event_ids.items() if len(ids) > 1}
    twice |= {key for (key, _, _), n in copies.items() if n > 1}
    report.dispatched_twice = len(twice)
    for key in sorted(twice):
        report.note(f"dispatched twice: {_label(key)}")
    known = expectations.settled | expectations.possible if live else expectations.settled
    unexpected = sorted(key for key in event_ids if key not in known)
    report.unexpected_versions = len(unexpected)
    for key in unexpected:
        report.note(f"dispatched a version the truth does not know: {_label(key)}")
    # A petition row first read in an earlier revision of its batch keeps that label.
    batches = {
        (ch, xid, ver.partition("#")[0])
        for ch, xid, ver in event_ids
        if ch == PETITION_WINDOW and live
    }
    dead_refs = {(d.channel, d.external_id) for d in dead}
    for key in sorted(expectations.settled):
        channel, external_id, version = key
        if key in event_ids or (channel, external_id) in dead_refs:
            continue
        if (
            channel == PETITION_WINDOW
            and (channel, external_id, version.partition("#")[0]) in batches
        ):
            continue
        report.lost += 1
        report.note(f"lost: {_label(key)}")


def _check_event_types(
    expectations: Expectations, events: Iterable[Event], live: bool, report: CheckReport
) -> None:
    for e in events:
        truth = expectations.versions.get(e.key)
        if truth is None:
            continue  # counted as an unexpected version
        acceptable = truth.events | truth.events_live if live else truth.events
        if e.event_type not in acceptable:
            report.wrong_event_types += 1
            report.note(
                f"{e.event_type} for {_label(e.key)}; acceptable: {', '.join(sorted(acceptable))}"
            )


def _check_routing(
    expectations: Expectations, deliveries: list[Event], moves: list[Event], report: CheckReport
) -> None:
    """Every event in a queue its truth case may be placed in, each case in one place.

    After a ``case_returned`` / ``case_assigned`` event, a case's events go
    where it moved (caseloop.md): those are judged against the last move
    before them instead of the truth.
    """
    targets: dict[str, set[str]] = defaultdict(set)
    for e in deliveries:
        targets[e.event_id].add(e.target)
    misrouted: set[str] = set()
    used: dict[str, set[str]] = defaultdict(set)
    for e in {e.event_id: e for e in deliveries}.values():
        case = expectations.case_of(e.ref)
        if case is None:
            continue
        where = placement_target(e.placement)
        moved = _last_move(moves, e)
        if moved is not None:
            there = targets[e.event_id]
            merged = e.event_type == "case_merged"
            if not (moved.target in there if merged else there == {moved.target}):
                misrouted.add(case.case_id)
                report.note(
                    f"{_label(e.key)} in {sorted(targets[e.event_id])} after its case "
                    f"moved to {moved.target}"
                )
            continue
        right = e.placement in case.placements
        if e.event_type == "case_merged":
            right = right and where in targets[e.event_id]
        else:
            right = right and targets[e.event_id] == {where}
            used[case.case_id].add(e.placement)
        if not right:
            misrouted.add(case.case_id)
            report.note(
                f"misrouted: {_label(e.key)} in {sorted(targets[e.event_id])} as {e.placement}; "
                f"truth: {sorted(case.placements)}"
            )
    for case_id, placements in used.items():
        if len(placements) > 1 and case_id not in misrouted:
            misrouted.add(case_id)
            report.note(f"case {case_id} dispatched to {sorted(placements)}")
    report.misrouted_cases = len(misrouted)


def _last_move(moves: list[Event], event: Event) -> Event | None:
    """The last move of ``event``'s case dispatched before it, if any."""
    at = event.dispatched_at
    before = [
        (m.dispatched_at, i, m)
        for i, m in enumerate(moves)
        if m.case_id == event.case_id and at is not None
        if m.dispatched_at is not None and m.dispatched_at <= at
    ]
    return max(before)[2] if before else None


def _check_partition(
    expectations: Expectations, cases: PublishedCases, report: CheckReport
) -> None:
    """Wrongly merged: extra truth cases per published case; split: the converse."""
    for refs in cases.groups().values():
        truth_cases = {c.case_id for ref in refs if (c := expectations.case_of(ref)) is not None}
        if len(truth_cases) > 1:
            report.wrongly_merged += len(truth_cases) - 1
            report.note(f"wrongly merged: truth cases {sorted(truth_cases)} published as one")
    for case in expectations.cases.values():
        groups = {g for ref in case.reports if (g := cases.group_of_ref(ref)) is not None}
        if len(groups) > 1:
            report.wrongly_split += len(groups) - 1
            report.note(f"wrongly split: truth case {case.case_id} published as {len(groups)}")


def _check_alerts(
    expectations: Expectations, observed: Observed, cases: PublishedCases, report: CheckReport
) -> None:
    """Match truth alerts to published ones by kind, raising cases and employer."""
    latest: dict[str, PublishedAlert] = {}
    for message in observed.alerts:
        alert = parse_alert(message)
        if alert is None:
            report.malformed_messages += 1
            report.note(f"malformed alert {message.topic}@{message.offset}")
        else:
            latest[alert.alert_id] = alert
    groups = cases.groups()

    def truth_cases_of(alert: PublishedAlert) -> frozenset[str]:
        out: set[str] = set()
        for case_id in alert.case_ids:
            group = cases.group_of_case_id(case_id)
            refs = groups.get(group, set()) if group is not None else set()
            if not refs:
                report.note(f"alert {alert.alert_id} names case {case_id} no event carried")
            out |= {c.case_id for ref in refs if (c := expectations.case_of(ref)) is not None}
        return frozenset(out)

    published = {alert_id: truth_cases_of(a) for alert_id, a in latest.items()}
    report.alerts_expected = len(expectations.alerts)
    report.alerts_published = len(latest)
    unmatched = dict(latest)
    pairs: list[tuple[ExpectedAlert, PublishedAlert, bool]] = []
    for truth in expectations.alerts:
        trigger = _cases_of(expectations, truth.trigger)
        members = _cases_of(expectations, truth.members)
        candidates = [
            a
            for a in unmatched.values()
            if a.kind == truth.kind and trigger <= published[a.alert_id]
        ]
        if not candidates:
            report.alerts_missing += 1
            report.note(f"alert missing: {_alert_label(truth)}")
            continue
        exact = [a for a in candidates if published[a.alert_id] == members]
        chosen = (exact or candidates)[0]
        del unmatched[chosen.alert_id]
        pairs.append((truth, chosen, bool(exact)))
        if not exact:
            report.note(
                f"alert {chosen.alert_id} has {len(published[chosen.alert_id])} cases, "
                f"truth {len(members)}: {_alert_label(truth)}"
            )
    # One employer of the truth is one employer of the run, and the other way round.
    published_keys: dict[str | None, set[str | None]] = defaultdict(set)
    truth_keys: dict[str | None, set[str | None]] = defaultdict(set)
    for truth, alert, _ in pairs:
        published_keys[truth.employer_key].add(alert.employer_key)
        truth_keys[alert.employer_key].add(truth.employer_key)
    for truth, alert, same_cases in pairs:
        same_employer = (
            len(published_keys[truth.employer_key]) == 1
            and len(truth_keys[alert.employer_key]) == 1
            and (truth.employer_key is None) == (alert.employer_key is None)
        )
        if not same_employer:
            report.note(f"alert {alert.alert_id}: employer differs from {_alert_label(truth)}")
        if not (same_cases and same_employer):
            report.alerts_wrong += 1
    report.alerts_extra = len(unmatched)
    for alert in unmatched.values():
        report.note(f"extra alert {alert.alert_id} ({alert.kind}, {len(alert.case_ids)} cases)")


def _cases_of(expectations: Expectations, refs: Iterable[Ref]) -> frozenset[str]:
    return frozenset(c.case_id for ref in refs if (c := expectations.case_of(ref)) is not None)


def _check_dead_letters(
    expectations: Expectations, dead: list[DeadLetterSeen], report: CheckReport
) -> None:
    """Expected dead letters found; dead-lettered records the truth does not expect."""
    report.dead_letters_expected = len(expectations.dead_letters)
    for expected in expectations.dead_letters:
        if any(_same_record(expected, seen) for seen in dead):
            report.dead_letters_found += 1
        else:
            report.note(
                f"dead letter missing: {expected.channel} {expected.external_id} ({expected.kind})"
            )
    unexpected = {
        (seen.channel, seen.external_id, seen.kind, seen.source)
        for seen in dead
        if not any(_same_record(expected, seen) for expected in expectations.dead_letters)
    }
    report.dead_letters_unexpected = len(unexpected)
    for channel, external_id, kind, _ in sorted(unexpected, key=str):
        report.note(f"unexpected dead letter: {channel} {external_id} ({kind})")


def _same_record(expected: ExpectedDeadLetter, seen: DeadLetterSeen) -> bool:
    """The same upstream record: same id, or (id unreadable) same kind from the same source."""
    if expected.channel != seen.channel:
        return False
    if seen.external_id is not None:
        return seen.external_id == expected.external_id
    return seen.kind == expected.kind and expected.source in seen.source


def _label(key: VersionKey) -> str:
    return "/".join(key)


def _alert_label(alert: ExpectedAlert) -> str:
    trigger = ", ".join("/".join(r) for r in sorted(alert.trigger))
    return f"{alert.kind} raised by {trigger}"
