"""属地: every routing rule of dispatch.md and every trap of shenzhen.md."""

from __future__ import annotations

import pytest

from router.normalize.normalizer import Normalizer
from router.normalize.place.gazetteer import Gazetteer, resolve
from router.normalize.place.placer import Placer
from schemas.channels import Channel
from schemas.complaint import Placement, TriageReason
from schemas.raw import StationRef
from tests.unit.router_builders import (
    KEY,
    appeal,
    envelope,
    hotline_order,
    petition_row,
    provincial_petition,
    station_case,
)

GAZ = Gazetteer()


def district_of(text: str) -> str | None:
    return resolve(GAZ, text).slug


def place_appeal(**kwargs: object) -> Placement:
    record = appeal(**kwargs)  # type: ignore[arg-type]
    env = envelope(Channel.CITIZEN_APP, record, record["appeal_id"], "1")
    return Normalizer(KEY).normalize(env, "t-0-0").placement


# --- gazetteer traps -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("沙头角海关旁", "yantian"),  # contains 沙头 (福田): longest wins
        ("沙头街道上沙村", "futian"),
        ("东部华侨城茶溪谷", "yantian"),  # contains 华侨城 (南山)
        ("华侨城创意园", "nanshan"),
        ("石岩街道", "baoan"),
        ("石井街道", "pingshan"),
        ("坪地街道", "longgang"),
        ("坪山街道", "pingshan"),
        ("福永街道", "baoan"),
        ("福海街道", "baoan"),
        ("福保街道", "futian"),
        ("福城街道", "longhua"),
        ("园岭街道", "futian"),
        ("园山街道", "longgang"),
        ("南湖街道", "luohu"),
        ("南湾街道", "longgang"),
        ("南头街道", "nanshan"),
        ("鹅埠镇", "shenshan"),
        ("鮜门镇", "shenshan"),
        ("鲘门", "shenshan"),
        ("葵涌街道", "dapeng"),
        ("较场尾民宿", "dapeng"),
    ],
)
def test_longest_name_wins_and_near_names_differ(text: str, slug: str) -> None:
    assert district_of(text) == slug


@pytest.mark.parametrize(
    ("district_text", "street_text", "slug"),
    [
        ("福田区", "福田街道", "futian"),
        ("南山区", "南山街道", "nanshan"),
        ("盐田区", "盐田街道", "yantian"),
        ("龙岗区", "龙岗街道", "longgang"),
        ("龙华区", "龙华街道", "longhua"),
        ("坪山区", "坪山街道", "pingshan"),
        ("光明区", "光明街道", "guangming"),
        ("大鹏新区", "大鹏街道", "dapeng"),
    ],
)
def test_district_sharing_a_name_with_its_street_is_one_district(
    district_text: str, street_text: str, slug: str
) -> None:
    assert district_of(district_text + street_text) == slug
    assert district_of(street_text) == slug
    assert district_of(district_text) == slug


@pytest.mark.parametrize(
    "text",
    [
        "宝安南路88号",
        "布吉路1号",
        "龙岗大道3001号",
        "南山大道",
        "沙河西路",
        "福田街12号",
        "华强北路",
    ],
)
def test_name_in_a_road_name_is_no_evidence(text: str) -> None:
    assert district_of(text) is None


def test_road_in_luohu_with_a_luohu_place_is_luohu() -> None:
    assert district_of("罗湖区宝安南路2001号") == "luohu"
    assert district_of("布吉路旁 东门老街") == "luohu"


def test_text_naming_two_districts_yields_nothing() -> None:
    resolution = resolve(GAZ, "龙岗某某物流公司南山分公司")
    assert resolution.slug is None
    assert resolution.ambiguous


def test_qianhai_alone_is_nanshan_but_baoan_qianhai_is_baoan() -> None:
    assert district_of("前海深港合作区") == "nanshan"
    assert district_of("宝安区前海片区") == "baoan"


def test_common_words_containing_a_place_are_no_evidence() -> None:
    assert district_of("工资打到招商银行卡") is None


def test_other_city_is_recognised_only_as_such() -> None:
    assert GAZ.other_city("东莞市长安镇") == "东莞"
    assert GAZ.other_city("惠州大亚湾") == "惠州"
    assert GAZ.other_city("福田区深南大道上海宾馆") is None


# --- rule 1: the record's own problem location -------------------------------------


def test_rule1_citizen_app_district_name() -> None:
    placement = place_appeal(district_name="南山区")
    assert placement.district == "nanshan"
    assert placement.routing_reason.startswith("rule 1")


def test_rule1_code_440307_with_dapeng_name_is_dapeng() -> None:
    assert place_appeal(district_code="440307", district_name="大鹏新区").district == "dapeng"


def test_rule1_code_440307_with_dapeng_street_is_dapeng() -> None:
    for street in ("葵涌街道", "大鹏", "南澳街道"):
        placement = place_appeal(district_code="440307", district_name=None, street_name=street)
        assert placement.district == "dapeng", street


def test_rule1_code_alone_decides_when_nothing_else_is_given() -> None:
    assert place_appeal(district_code="440307", district_name=None).district == "longgang"
    assert place_appeal(district_code="441521", district_name=None).district == "shenshan"
    placement = place_appeal(district_code="440305", district_name=None)
    assert placement.district == "nanshan"
    assert "code" in placement.routing_reason


def test_rule1_street_beats_district_code() -> None:
    placement = place_appeal(district_code="440305", district_name=None, street_name="西乡街道")
    assert placement.district == "baoan"


def test_rule1_outside_city_goes_to_triage() -> None:
    placement = place_appeal(
        district_name="东莞市", employer_address="深圳市南山区科技园", content="在南山上班"
    )
    assert placement.district is None
    assert placement.triage_reason is TriageReason.OUTSIDE_JURISDICTION


@pytest.mark.parametrize(
    ("field", "value", "slug"),
    [("所属区", "宝安区", "baoan"), ("所属区", "龙华", "longhua")],
)
def test_rule1_petition_window_district(field: str, value: str, slug: str) -> None:
    env = envelope(Channel.PETITION_WINDOW, petition_row(**{field: value}), "DJ1", "b#1")
    placement = Normalizer(KEY).normalize(env, "t-0-0").placement
    assert placement.district == slug
    assert "所属区" in placement.routing_reason


def test_rule1_hotline_area_and_outside() -> None:
    def place(**overrides: str) -> Placement:
        env = envelope(Channel.HOTLINE_12351, hotline_order(**overrides), "GD1", "v")
        return Normalizer(KEY).normalize(env, "t-0-0").placement

    assert place(area="深圳市福田区").district == "futian"
    outside = place(area="东莞市", company_address="深圳市南山区")
    assert outside.triage_reason is TriageReason.OUTSIDE_JURISDICTION
    # 深圳市 alone says nothing: the next rule (employer address) decides.
    assert place(area="深圳市", company_address="深圳市罗湖区东门").district == "luohu"


def test_rule1_provincial_wtsd() -> None:
    env = envelope(
        Channel.PROVINCIAL_PETITION, provincial_petition(WTSD="深圳市坪山区"), "4403001", "1"
    )
    assert Normalizer(KEY).normalize(env, "t-0-0").placement.district == "pingshan"


# --- rule 2: the employer's address --------------------------------------------------


def test_rule2_employer_address_when_no_location() -> None:
    placement = place_appeal(district_name=None, employer_address="深圳市龙华区民治街道")
    assert placement.district == "longhua"
    assert placement.routing_reason.startswith("rule 2")
    assert placement.street == "民治"


def test_rule2_outside_employer_address_stops_the_search() -> None:
    placement = place_appeal(
        district_name=None, employer_address="惠州市惠阳区", content="在南山科技园上班"
    )
    assert placement.triage_reason is TriageReason.OUTSIDE_JURISDICTION
    assert "rule 2" in placement.routing_reason


def test_rule2_ambiguous_address_falls_through_to_rule3() -> None:
    placement = place_appeal(
        district_name=None,
        employer_address="龙岗某某物流公司南山分公司",
        address="宝安区西乡街道",
    )
    assert placement.district == "baoan"
    assert placement.routing_reason.startswith("rule 3: location address")


def test_company_name_place_counts_only_when_nothing_better_is_known() -> None:
    by_name = place_appeal(
        district_name=None, employer="深圳市宝安区福永某某电子厂", content="欠薪"
    )
    assert by_name.district == "baoan"
    assert by_name.routing_reason.startswith("rule 3: employer name")
    by_address = place_appeal(
        district_name=None,
        employer="龙岗某某物流公司南山分公司",
        employer_address="深圳市南山区粤海街道",
        content="欠薪",
    )
    assert by_address.district == "nanshan"
    assert by_address.routing_reason.startswith("rule 2")


# --- rule 3: location address, complaint text, employer name ------------------------


def test_rule3_location_address_outside_is_outside() -> None:
    placement = place_appeal(district_name=None, address="广州市天河区")
    assert placement.triage_reason is TriageReason.OUTSIDE_JURISDICTION


def test_rule3_complaint_text() -> None:
    placement = place_appeal(district_name=None, employer="某某公司", content="在坂田上班")
    assert placement.district == "longgang"
    assert placement.routing_reason.startswith("rule 3: complaint text")


def test_free_text_naming_another_city_never_decides_outside() -> None:
    placement = place_appeal(
        district_name=None, employer="某某公司", content="我是东莞市人，在光明区上班"
    )
    assert placement.district == "guangming"
    unplaced = place_appeal(district_name=None, employer="某某公司", content="我老家惠州市")
    assert unplaced.triage_reason is TriageReason.UNPLACED


def test_hotline_handle_result_is_not_complaint_text() -> None:
    order = hotline_order(area="", company_name="某某公司", content="欠薪", handle_result="转南山")
    env = envelope(Channel.HOTLINE_12351, order, "GD1", "v")
    assert Normalizer(KEY).normalize(env, "t-0-0").placement.triage_reason is TriageReason.UNPLACED


# --- rule 4 and unplaced -----------------------------------------------------------------


def test_rule4_station_district_for_legal_stations() -> None:
    station = StationRef(station_id="NS-001", name="南山区总工会法律服务工作室", district="南山区")
    env = envelope(Channel.LEGAL_STATIONS, station_case(), "NS-001-2025-0042", "v", station)
    placement = Normalizer(KEY).normalize(env, "t-0-0").placement
    assert placement.district == "nanshan"
    assert placement.routing_reason.startswith("rule 4")


def test_rule4_comes_after_the_employer_address() -> None:
    station = StationRef(station_id="NS-001", name="站", district="南山区")
    case = station_case(employer={"name": "某厂", "credit_code": None, "address": "宝安区沙井"})
    env = envelope(Channel.LEGAL_STATIONS, case, "NS-001-2025-0042", "v", station)
    assert Normalizer(KEY).normalize(env, "t-0-0").placement.district == "baoan"


def test_nothing_known_is_unplaced() -> None:
    placement = place_appeal(district_name=None, employer="某某公司", content="拖欠工资")
    assert placement.district is None
    assert placement.triage_reason is TriageReason.UNPLACED


def test_shenshan_town_in_shanwei_address_is_shenshan() -> None:
    placement = place_appeal(district_name=None, employer_address="汕尾市海丰县鹅埠镇")
    assert placement.district == "shenshan"


def test_placer_is_usable_alone() -> None:
    from schemas.records import parse_record

    fields = parse_record(Channel.CITIZEN_APP, appeal(district_name="盐田区")).common()
    assert Placer().place(Channel.CITIZEN_APP, fields).district == "yantian"
