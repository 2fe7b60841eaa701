"""The leak scan's own detector (``checker.pii``): known numbers in any form, plain ones always."""

from __future__ import annotations

import pytest

from checker.pii import KnownNumbers, clear_number, leaks

MOBILE = "13812345678"
LANDLINE = "075526881234"
ID_NUMBER = "44030519900101123X"


@pytest.fixture(scope="module")
def known() -> KnownNumbers:
    return KnownNumbers.of([MOBILE, LANDLINE, ID_NUMBER])


@pytest.mark.parametrize(
    "text",
    [
        "电话13812345678",
        "+86 (138) 1234-5678",
        "0086-138-1234-5678",
        "１３８　１２３４　５６７８",
        "138·1234·5678",
        "138/1234/5678",
        "1381234\n5678",
        '{"summary": "电话1381234\\n5678"}',
        '{"summary": "\\uff11\\uff13\\uff18 1234 5678"}',
        "（0755）2688-1234",
        "+86 755 2688 1234",
        "440305 19900101 123x",
        "44030519900101123",  # the check character follows from the first 17
        "440305900101123",  # the old 15-digit form
        "440305-900101-123",
    ],
)
def test_a_known_number_is_found_in_any_written_form(known: KnownNumbers, text: str) -> None:
    assert known.found(text) == 1


@pytest.mark.parametrize(
    "text",
    [
        "电话138****5678",
        "座机0755-****1234",
        "身份证440305********123X",
        "老身份证440305*****1123",
        "电话13812345679",  # another number
        "GD12351-20261203-000146 欠薪82970元 2026-12-03",
    ],
)
def test_masked_and_other_numbers_are_not_found(known: KnownNumbers, text: str) -> None:
    assert known.found(text) == 0


def test_each_known_number_counts_once_and_other_terms_literally() -> None:
    known = KnownNumbers.of([MOBILE, "+86 139 8765 4321", "张三", ""])
    assert known.found("13812345678 又是 138-1234-5678，13987654321") == 2
    assert known.found("张三的电话") == 1
    assert not KnownNumbers.of([])
    assert KnownNumbers.of(["张三"])


def test_plain_forms_are_clear_numbers_without_a_list() -> None:
    assert clear_number("电话13812345678")
    assert clear_number("+86 138 1234 5678")
    assert clear_number("身份证44030519900101123X")
    assert clear_number("座机0755-26881234")
    for kept in ("138****5678", "欠薪370000元", "GD12351-20261203-000146", "2026-12-03 14:05"):
        assert not clear_number(kept), kept


def test_leaks_skips_identifiers_for_the_plain_check_but_not_for_known_numbers() -> None:
    value = {"event_id": "13912345678", "summary": "电话138****5678", "sources": []}
    assert not leaks(value)
    assert leaks(value, KnownNumbers.of(["13912345678"]))
    assert leaks({"summary": "电话 139 1234 5678"})
