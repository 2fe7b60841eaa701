"""GB 11643 ID numbers and GB 32100 credit codes: check characters computed right."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from simulators.scenario.ids import (
    USCC_CHARSET,
    id_check_char,
    is_valid_id_number,
    is_valid_uscc,
    make_id_number,
    make_landline,
    make_mobile,
    make_uscc,
)


def test_published_examples_validate() -> None:
    assert id_check_char("11010519491231002") == "X"  # the standard's own example
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_uscc("91350100M000100Y43")  # a code printed on a real licence


def test_a_wrong_check_character_or_date_is_refused() -> None:
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("110105194902300028")  # 30 February
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100Y4I")  # I is not in the charset


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_numbers_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    male = make_id_number(rng, male=True)
    female = make_id_number(rng, male=False)
    assert is_valid_id_number(male)
    assert is_valid_id_number(female)
    assert int(male[16]) % 2 == 1
    assert int(female[16]) % 2 == 0
    code = make_uscc(rng, "440305")
    assert is_valid_uscc(code)
    assert code.startswith("91440305")
    assert set(code) <= set(USCC_CHARSET)
    mobile = make_mobile(rng)
    assert len(mobile) == 11
    assert mobile.startswith("1")
    assert make_landline(rng).startswith("0755-")


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=16))
def test_changing_one_character_breaks_the_check(seed: int, position: int) -> None:
    rng = random.Random(seed)
    code = make_uscc(rng, "440300")
    replacement = next(c for c in USCC_CHARSET if c != code[position])
    assert not is_valid_uscc(code[:position] + replacement + code[position + 1 :])
