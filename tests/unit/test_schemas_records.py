"""Parsing each channel's raw record: validation, UTC times, identifiers kept as unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.channels import Channel
from schemas.records import (
    CitizenAppRecord,
    HotlineWorkOrder,
    LegalStationCase,
    PetitionWindowRow,
    ProvincialPetition,
    parse_record,
    to_utc,
)
from tests.unit.router_builders import (
    appeal,
    hotline_order,
    id_number,
    petition_row,
    provincial_petition,
    station_case,
    uscc,
)


def test_times_without_offset_are_china_standard_time() -> None:
    expected = datetime(2025, 5, 23, 6, 5, 9, tzinfo=UTC)
    assert to_utc("2025-05-23 14:05:09") == expected
    assert to_utc("2025-05-23T14:05:09") == expected
    assert to_utc("2025-05-23T14:05:09+08:00") == expected
    assert to_utc("2025-05-23T06:05:09Z") == expected
    assert to_utc("2025/05/23 14:05") == datetime(2025, 5, 23, 6, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2025/13/40 25:00", "yesterday", ""])
def test_impossible_times_are_errors(value: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        to_utc(value)


def test_citizen_app_record_parses_and_normalises_identifiers() -> None:
    rec = parse_record(
        Channel.CITIZEN_APP,
        appeal(phone="+86 138 1234 5678", id_no=id_number(7).lower(), credit_code=uscc(1)),
    )
    assert isinstance(rec, CitizenAppRecord)
    common = rec.common()
    assert common.phone == "13812345678"
    assert common.id_number == id_number(7)
    assert common.employer_uscc == uscc(1)
    assert common.reported_at.tzinfo is UTC


def test_invalid_identifiers_are_kept_as_unknown_not_fatal() -> None:
    rec = parse_record(
        Channel.CITIZEN_APP,
        appeal(phone="12345", id_no="440305199001011230", credit_code="91440300MA5F0XXXXX"),
    )
    common = rec.common()
    assert (common.phone, common.id_number, common.employer_uscc) == (None, None, None)
    assert common.employer_name == "深圳市某某建筑工程有限公司"


@pytest.mark.parametrize("people", [0, -3, "many", 2.5, True])
def test_bad_people_counts_are_errors(people: object) -> None:
    record = appeal() | {"people_involved": people}
    with pytest.raises(ValidationError):
        parse_record(Channel.CITIZEN_APP, record)


def test_missing_required_field_is_an_error() -> None:
    record = appeal()
    del record["submitted_at"]
    with pytest.raises(ValidationError):
        parse_record(Channel.CITIZEN_APP, record)


def test_petition_window_row() -> None:
    rec = parse_record(Channel.PETITION_WINDOW, petition_row(来访人数="12", 身份证号="bad"))
    assert isinstance(rec, PetitionWindowRow)
    common = rec.common()
    assert common.people_involved == 12
    assert common.id_number is None
    assert common.reported_at == datetime(2025, 5, 23, 6, 5, tzinfo=UTC)
    assert common.location.district_name == "南山区"
    with pytest.raises(ValidationError):
        parse_record(Channel.PETITION_WINDOW, petition_row(登记时间="2025/02/30 10:00"))


def test_hotline_order_with_landline_and_anonymous_caller() -> None:
    rec = parse_record(
        Channel.HOTLINE_12351, hotline_order(caller_name="", caller_phone="0755-26881234")
    )
    assert isinstance(rec, HotlineWorkOrder)
    common = rec.common()
    assert common.person_name is None
    assert common.phone == "075526881234"
    assert common.people_involved == 1


def test_provincial_petition_nested_groups_and_empty_elements() -> None:
    rec = parse_record(
        Channel.PROVINCIAL_PETITION,
        provincial_petition(
            RS="15",
            XFR={"XM": "陈望", "ZJHM": None, "LXDH": ""},
            BFYDW={"DWMC": "某厂", "TYSHXYDM": uscc(2), "DWDZ": None},
        ),
    )
    assert isinstance(rec, ProvincialPetition)
    common = rec.common()
    assert common.people_involved == 15
    assert (common.phone, common.id_number) == (None, None)
    assert common.employer_uscc == uscc(2)


def test_legal_station_case() -> None:
    rec = parse_record(Channel.LEGAL_STATIONS, station_case(workers=3))
    assert isinstance(rec, LegalStationCase)
    common = rec.common()
    assert common.people_involved == 3
    assert common.category_label == "欠薪追讨"
    assert common.status_label == "调解"
