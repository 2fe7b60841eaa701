"""Personal numbers and secrets the hostile tests plant, and the scan that finds them."""

from __future__ import annotations

from checker.pii import KnownNumbers, clear_number
from schemas.identifiers import id_number_check_char

_FIRST17 = "44030519900101123"
ID_NUMBER = _FIRST17 + id_number_check_char(_FIRST17)
PHONE = "13812345678"
SECRETS: tuple[str, ...] = ("hostile-secret-7f3a", "hostile-token-19c2")
# The leak scan's independent detector: the planted numbers in any written form.
_PLANTED = KnownNumbers.of([ID_NUMBER, PHONE])


def leaks(text: str) -> bool:
    """True when ``text`` holds a clear ID or phone number (the planted ones in any form,
    others in plain form) or a planted secret."""
    return (
        clear_number(text)
        or bool(_PLANTED.found(text))
        or any(secret in text for secret in SECRETS)
    )
