"""Dispatch events, alerts and dead letters read out of message values (plain dicts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checker.expectations import TRIAGE, TRIAGE_PREFIX, Ref, VersionKey
from checker.observed import Message

# Events of the case loop (caseloop.md): judged by checker.loop, not against the dispatch truth.
MOVE_EVENTS = frozenset({"case_returned", "case_assigned"})
ACTION_REFUSAL_PREFIX = "action_"


@dataclass(frozen=True)
class Event:
    """The fields of one dispatch event the checker judges, and the queue it was read from."""

    event_id: str
    event_type: str
    case_id: str
    district: str | None
    triage_reason: str | None
    key: VersionKey
    merged_case_ids: tuple[str, ...]
    person_key: str | None
    target: str  # district slug or ``triage``: the topic the message was on
    dispatched_at: datetime | None = None

    @property
    def ref(self) -> Ref:
        """(channel, external_id) of the report."""
        return (self.key[0], self.key[1])

    @property
    def placement(self) -> str:
        """Where the event says its case is: a district slug or ``triage:<reason>``."""
        return self.district if self.district else f"{TRIAGE_PREFIX}{self.triage_reason}"


def placement_target(placement: str) -> str:
    """The dispatch queue of a placement: its slug, or ``triage``."""
    return TRIAGE if placement.startswith(TRIAGE_PREFIX) else placement


def parse_event(message: Message) -> Event | None:
    """The event of a ``dispatch.*`` message, or ``None`` if it breaks the contract."""
    value = message.value
    if value is None or message.dispatch_target is None:
        return None
    try:
        report = value["report"]
        complainant = value.get("complainant")
        event = Event(
            event_id=_text(value["event_id"]),
            event_type=_text(value["event_type"]),
            case_id=_text(value["case_id"]),
            district=_optional_text(value.get("district")),
            triage_reason=_optional_text(value.get("triage_reason")),
            key=(
                _text(report["channel"]),
                _text(report["external_id"]),
                _text(report["version"]),
            ),
            merged_case_ids=tuple(_text(c) for c in value.get("merged_case_ids") or ()),
            person_key=_optional_text(complainant.get("person_key"))
            if isinstance(complainant, dict)
            else None,
            target=message.dispatch_target,
            dispatched_at=parse_time(value.get("dispatched_at")),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if event.district is None and event.triage_reason is None:
        return None
    return event


@dataclass(frozen=True)
class PublishedAlert:
    """The last published version of one alert."""

    alert_id: str
    kind: str
    employer_key: str | None
    case_ids: tuple[str, ...]


def parse_alert(message: Message) -> PublishedAlert | None:
    """The alert of an ``alerts.risk`` message, or ``None`` if it breaks the contract."""
    value = message.value
    if value is None:
        return None
    try:
        employer = value.get("employer")
        employer_key = _optional_text(value.get("employer_key"))
        if employer_key is None and isinstance(employer, dict):
            employer_key = _optional_text(employer.get("uscc") or employer.get("name"))
        return PublishedAlert(
            alert_id=_text(value["alert_id"]),
            kind=_text(value["kind"]),
            employer_key=employer_key,
            case_ids=tuple(_text(c) for c in value["case_ids"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class DeadLetterSeen:
    """Which record a dead letter is about."""

    channel: str
    external_id: str | None
    kind: str
    source: str


def parse_dead_letter(message: Message) -> DeadLetterSeen | None:
    """The dead letter of an ``intake.dlq``/``router.dlq`` message, or ``None`` if malformed."""
    value = message.value
    if value is None:
        return None
    try:
        error = value["error"]
        return DeadLetterSeen(
            channel=_text(value["channel"]),
            external_id=_optional_text(value.get("external_id")),
            kind=_text(error["kind"]),
            source=_text(value.get("source") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def parse_time(raw: Any) -> datetime | None:
    """An aware datetime from ISO-8601 text, or None (not text, not a time, no offset)."""
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


REPLY_REFUSAL_KIND = "reply_refused"


def is_reply_refusal(value: dict[str, Any] | None) -> bool:
    """Whether a dead letter is an upstream's refusal of a reply (judged with the replies)."""
    error = value.get("error") if value is not None else None
    return isinstance(error, dict) and error.get("kind") == REPLY_REFUSAL_KIND


def is_action_refusal(value: dict[str, Any] | None) -> bool:
    """Whether a dead letter's value is a refused case action (``error.kind`` ``action_*``)."""
    error = value.get("error") if value is not None else None
    kind = error.get("kind") if isinstance(error, dict) else None
    return isinstance(kind, str) and kind.startswith(ACTION_REFUSAL_PREFIX)
