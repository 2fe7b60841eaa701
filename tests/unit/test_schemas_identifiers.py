"""GB 11643 ID numbers, GB 32100 credit codes and phone normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.identifiers import (
    id_number_check_char,
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
)


def test_id_number_check_digit() -> None:
    assert normalize_id_number("44030519900101123X") == "44030519900101123X"
    assert normalize_id_number("44030519900101123x") == "44030519900101123X"
    assert normalize_id_number("４４０３０５１９９００１０１１２３Ｘ") == "44030519900101123X"
    assert normalize_id_number(" 440305 19900101 123X ") == "44030519900101123X"


@pytest.mark.parametrize(
    "value", ["440305199001011230", "4403051990010112", "44030519900101123Y", "", None]
)
def test_invalid_id_numbers_are_unknown(value: str | None) -> None:
    assert normalize_id_number(value) is None


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_exactly_one_check_character_is_valid(first17: str) -> None:
    valid = [c for c in "0123456789X" if normalize_id_number(first17 + c)]
    assert valid == [id_number_check_char(first17)]


def test_credit_codes_of_real_companies_validate() -> None:
    assert normalize_uscc("914403001922038216") == "914403001922038216"
    assert normalize_uscc("9144030071526726xg") == "9144030071526726XG"


@pytest.mark.parametrize(
    "value", ["91440300MA5F0XXXXX", "914403001922038217", "91440300192203821", "", None]
)
def test_invalid_credit_codes_are_unknown(value: str | None) -> None:
    assert normalize_uscc(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0755-26881234", "075526881234"),
        ("(0755) 2688 1234", "075526881234"),
        ("+86 755 26881234", "075526881234"),
        ("010-12345678", "01012345678"),
        ("26881234", "26881234"),
        ("12345", None),
        ("23812345678", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_normalisation(value: str | None, expected: str | None) -> None:
    assert normalize_phone(value) == expected
