"""Raw envelope -> :class:`NormalizedReport`: validate, normalise, pseudonymise, place."""

from __future__ import annotations

import hashlib

import orjson
from pydantic import ValidationError

from core.ids import digest_id
from core.pii import mask_numbers, mask_phone
from router.errors import NormalizeError
from router.normalize.place.placer import Placer
from router.normalize.pseudonym import Pseudonymizer
from router.normalize.text import mask_name, normalize_employer_name, shingles
from router.normalize.vocabulary import category_of, status_of
from router.records import describe_validation_error
from schemas.channels import Channel
from schemas.complaint import (
    Complainant,
    Employer,
    EmployerMatch,
    Location,
    NormalizedReport,
)
from schemas.raw import RawEnvelope
from schemas.records import ChannelRecord, CommonFields, parse_record, to_utc

MAX_VERSION_DIGITS = 30  # longer numeric labels sort as text (int() refuses > 4300 digits)


def version_key(channel: Channel, version: str) -> str:
    """A string that sorts report versions of one channel oldest first."""
    label = version.strip()
    if channel in (Channel.CITIZEN_APP, Channel.PROVINCIAL_PETITION) and _is_number(label):
        return _sortable_int(int(label))
    if channel is Channel.PETITION_WINDOW:
        batch, _, revision = label.rpartition("#")
        if batch and _is_number(revision):
            return f"{batch}#{_sortable_int(int(revision))}"
        return label
    if channel in (Channel.HOTLINE_12351, Channel.LEGAL_STATIONS):
        try:
            return to_utc(label).strftime("%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            return label
    return label


def _is_number(text: str) -> bool:
    """True when ``int(text)`` works: decimal digits only, within int()'s digit limit."""
    return text.isdecimal() and len(text) <= MAX_VERSION_DIGITS


def _sortable_int(number: int) -> str:
    """``number`` prefixed by a letter for its length: sorts numerically as text.

    Not zero-padded, so a key never looks like a phone number to a scanner.
    """
    digits = str(number)
    return chr(ord("a") + len(digits)) + digits


def derived_trace_id(channel: Channel, external_id: str, version: str) -> str:
    """A deterministic trace id for a report version that arrived without one."""
    return digest_id("trace", channel, external_id, version)


class Normalizer:
    """Turns raw envelopes into normalised, pseudonymised, placed reports."""

    def __init__(self, pseudonym_key: bytes, placer: Placer | None = None) -> None:
        self._pseudo = Pseudonymizer(pseudonym_key)
        self._shingle_key = hashlib.sha256(b"shingles\x00" + pseudonym_key).digest()
        self._placer = placer or Placer()

    def parse_envelope(self, value: bytes | None) -> RawEnvelope:
        """The envelope in ``value``; raises :class:`NormalizeError` if it is not one."""
        if value is None:
            raise NormalizeError("envelope_invalid", "record has no value")
        try:
            return RawEnvelope.model_validate(orjson.loads(value))
        except orjson.JSONDecodeError as exc:
            raise NormalizeError("envelope_invalid", "value is not JSON") from exc
        except ValidationError as exc:
            raise NormalizeError("envelope_invalid", describe_validation_error(exc)) from exc

    def normalize(
        self, envelope: RawEnvelope, source: str, trace_id: str | None = None
    ) -> NormalizedReport:
        """The normalised report of one envelope; raises :class:`NormalizeError` if unusable."""
        try:
            record = parse_record(envelope.channel, envelope.record)
        except ValidationError as exc:
            raise NormalizeError("record_invalid", describe_validation_error(exc)) from exc
        if record.external_id != envelope.external_id:
            raise NormalizeError("id_mismatch", "record id differs from the envelope's external_id")
        return self._build(envelope, record, source, trace_id)

    def _build(
        self, envelope: RawEnvelope, record: ChannelRecord, source: str, trace_id: str | None
    ) -> NormalizedReport:
        channel = envelope.channel
        fields = record.common()
        category = category_of(channel, fields.category_label)
        if category is None:
            raise NormalizeError("unknown_category", f"category label not in {channel}'s list")
        status = status_of(channel, fields.status_label)
        if status is None:
            raise NormalizeError("unknown_status", f"status label not in {channel}'s list")
        placement = self._placer.place(
            channel, fields, envelope.station.district if envelope.station else None
        )
        return NormalizedReport(
            channel=channel,
            connector=envelope.connector,
            external_id=envelope.external_id,
            version=envelope.version,
            version_key=version_key(channel, envelope.version),
            reported_at=fields.reported_at,
            fetched_at=envelope.fetched_at,
            trace_id=trace_id or derived_trace_id(channel, envelope.external_id, envelope.version),
            source=source,
            category=category,
            status=status,
            people_involved=fields.people_involved,
            complainant=self._complainant(fields),
            person_tokens=self._person_tokens(fields),
            employer=_employer(fields),
            employer_match=_employer_match(fields),
            location=Location(street=placement.street, address=_masked(fields.location.address)),
            placement=placement,
            summary=mask_numbers(fields.complaint_text),
            shingles=shingles(fields.complaint_text, self._shingle_key),
        )

    def _complainant(self, fields: CommonFields) -> Complainant | None:
        if not (fields.person_name or fields.phone or fields.id_number):
            return None
        return Complainant(
            name_masked=mask_name(fields.person_name),
            phone_masked=mask_phone(fields.phone) if fields.phone else None,
            person_key=self._pseudo.person_key(fields.id_number, fields.phone),
        )

    def _person_tokens(self, fields: CommonFields) -> list[str]:
        tokens = []
        if fields.id_number:
            tokens.append(self._pseudo.id_token(fields.id_number))
        if fields.phone:
            tokens.append(self._pseudo.phone_token(fields.phone))
        return tokens


def _masked(text: str | None) -> str | None:
    return mask_numbers(text) if text else None


def _employer(fields: CommonFields) -> Employer | None:
    if not (fields.employer_name or fields.employer_uscc or fields.employer_address):
        return None
    return Employer(
        name=_masked(fields.employer_name),
        uscc=fields.employer_uscc,
        address=_masked(fields.employer_address),
    )


def _employer_match(fields: CommonFields) -> EmployerMatch | None:
    # The normalised name is the alerts' Kafka key and sits in the state changelog: a
    # number typed into an employer name is masked there too (after normalising, so
    # equal names stay equal).
    name = _masked(normalize_employer_name(fields.employer_name))
    if name is None and fields.employer_uscc is None:
        return None
    return EmployerMatch(uscc=fields.employer_uscc, name=name)
