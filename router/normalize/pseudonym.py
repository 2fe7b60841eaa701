"""Keyed pseudonyms (HMAC-SHA256) of personal identifiers."""

from __future__ import annotations

from core.ids import keyed_id


class Pseudonymizer:
    """Stable keyed hashes of ID numbers and phones; the same key gives the same pseudonyms."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def id_token(self, id_number: str) -> str:
        """Match token of a normalised resident ID number."""
        return "id:" + keyed_id(self._key, "id", id_number)

    def phone_token(self, phone: str) -> str:
        """Match token of a normalised phone number."""
        return "ph:" + keyed_id(self._key, "phone", phone)

    def person_key(self, id_number: str | None, phone: str | None) -> str | None:
        """The public ``person_key``: pseudonym of the ID number, else of the phone."""
        if id_number:
            return keyed_id(self._key, "person", id_number)
        if phone:
            return keyed_id(self._key, "person-phone", phone)
        return None
