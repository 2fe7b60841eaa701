"""Personal numbers and secrets the hostile tests plant, and the scan that finds them."""

from __future__ import annotations

from core.pii import contains_numbers
from schemas.identifiers import id_number_check_char

_FIRST17 = "44030519900101123"
ID_NUMBER = _FIRST17 + id_number_check_char(_FIRST17)
PHONE = "13812345678"
SECRETS: tuple[str, ...] = ("hostile-secret-7f3a", "hostile-token-19c2")


def leaks(text: str) -> bool:
    """True when ``text`` holds a clear ID number, a full phone number or a planted secret."""
    return contains_numbers(text) or any(secret in text for secret in SECRETS)
