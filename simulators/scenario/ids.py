"""Official identifiers with valid check characters.

* GB 11643-1999 resident identity numbers: 6-digit region, 8-digit birth date,
  3-digit sequence (odd for men), one ISO 7064 MOD 11-2 check character.
* GB 32100-2015 unified social credit codes: registration authority, entity
  type, 6-digit region, 9-character organisation code (GB 11714, with its own
  check character), one MOD 31 check character.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Home regions of Shenzhen's workforce: Shenzhen itself and the big sending provinces.
ID_REGIONS: tuple[str, ...] = (
    "440303", "440304", "440305", "440306", "440307", "440309",  # Shenzhen
    "441302", "445102", "441521", "440582",  # Huizhou, Chaozhou, Haifeng, Chaoyang
    "430521", "431021", "430681",  # Hunan
    "450881", "452402",  # Guangxi
    "511621", "510722",  # Sichuan
    "411324", "412725",  # Henan
    "362427", "360721",  # Jiangxi
    "420621", "421122",  # Hubei
)  # fmt: skip


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True when ``value`` is an 18-character resident ID with a correct check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17].upper()


def make_id_number(rng: random.Random, *, male: bool) -> str:
    """A random valid resident ID number of a person born 1965-2004."""
    region = rng.choice(ID_REGIONS)
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    seq = rng.randrange(0, 999)
    if (seq % 2 == 1) != male:
        seq = (seq + 1) % 1000
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def _char_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(_char_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True when ``value`` is an 18-character unified social credit code with valid checks."""
    if len(value) != 18 or any(c not in USCC_CHARSET for c in value):
        return False
    if org_code_check_char(value[8:16]) != value[16]:
        return False
    return uscc_check_char(value[:17]) == value[17]


def make_uscc(rng: random.Random, region: str) -> str:
    """A random valid code of an enterprise (``91``) registered in ``region``."""
    body = "MA5" + "".join(rng.choice(_ORG_BODY_CHARSET) for _ in range(5))
    first17 = "91" + region + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


MOBILE_PREFIXES = (
    "130", "131", "135", "136", "137", "138", "139", "150", "152", "158",
    "159", "166", "176", "177", "180", "186", "187", "188", "189", "199",
)  # fmt: skip


def make_mobile(rng: random.Random) -> str:
    """A mainland mobile number (11 digits, common operator prefixes)."""
    prefix = rng.choice(MOBILE_PREFIXES)
    return prefix + f"{rng.randrange(10**8):08d}"


def make_landline(rng: random.Random) -> str:
    """A Shenzhen landline with its area code, as ``0755-2xxxxxxx``."""
    return f"0755-{rng.choice('2368')}{rng.randrange(10**7):07d}"
