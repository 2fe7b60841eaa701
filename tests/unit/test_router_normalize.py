"""Normalisation: categories, employer names, masking and pseudonyms."""

from __future__ import annotations

import pytest

from core.pii import contains_numbers
from router.dispatch.matching import jaccard
from router.errors import NormalizeError
from router.normalize.normalizer import Normalizer, version_key
from router.normalize.text import mask_name, normalize_employer_name, shingles
from router.normalize.vocabulary import CATEGORIES, category_of
from schemas.channels import Channel
from schemas.complaint import Category
from tests.unit.router_builders import (
    KEY,
    appeal,
    appeal_envelope,
    envelope,
    hotline_order,
    id_number,
    report,
)

TABLE = {
    Category.WAGE_ARREARS: ("LAB-WAGE", "拖欠工资", "欠薪", "劳动社保-拖欠工资", "欠薪追讨"),
    Category.WORK_INJURY: ("LAB-INJURY", "工伤待遇", "工伤", "劳动社保-工伤保险", "工伤认定"),
    Category.SOCIAL_INSURANCE: (
        "LAB-INSURANCE",
        "社会保险",
        "社保",
        "劳动社保-社会保险",
        "社保争议",
    ),
    Category.LABOR_CONTRACT: (
        "LAB-CONTRACT",
        "劳动合同",
        "劳动合同",
        "劳动社保-劳动合同",
        "劳动合同争议",
    ),
    Category.DISMISSAL: (
        "LAB-DISMISS",
        "解除劳动合同",
        "辞退",
        "劳动社保-解除劳动关系",
        "违法解除",
    ),
    Category.WORKING_HOURS: ("LAB-HOURS", "加班休假", "加班", "劳动社保-工时休假", "加班费争议"),
    Category.OCCUPATIONAL_SAFETY: (
        "LAB-SAFETY",
        "劳动保护",
        "职业安全",
        "劳动社保-劳动保护",
        "职业病",
    ),
    Category.OTHER: ("LAB-OTHER", "其他", "咨询", "劳动社保-其他", "劳动争议咨询"),
}
CHANNEL_ORDER = (
    Channel.CITIZEN_APP,
    Channel.PETITION_WINDOW,
    Channel.HOTLINE_12351,
    Channel.PROVINCIAL_PETITION,
    Channel.LEGAL_STATIONS,
)


@pytest.mark.parametrize("category", list(Category))
def test_category_table_of_dispatch_md(category: Category) -> None:
    for channel, label in zip(CHANNEL_ORDER, TABLE[category], strict=True):
        assert category_of(channel, label) is category


def test_extra_labels_and_unknown_labels() -> None:
    assert category_of(Channel.LEGAL_STATIONS, "工伤赔偿") is Category.WORK_INJURY
    assert category_of(Channel.HOTLINE_12351, "其他") is Category.OTHER
    assert category_of(Channel.CITIZEN_APP, "LAB-NOPE") is None
    assert sum(len(labels) for labels in CATEGORIES.values()) == 8 * 5 + 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("深圳市某某建筑工程有限公司", "某某建筑工程"),
        ("深圳某某建筑工程有限责任公司", "某某建筑工程"),
        ("深圳市南山区某某科技股份有限公司", "某某科技"),
        ("南山某某科技有限公司", "某某科技"),
        ("深圳市大鹏新区某某渔业公司", "某某渔业"),
        ("某某 电子厂", "某某电子"),
        ("（深圳）某某物流有限公司南山分公司", "某某物流有限公司南山"),
        ("ＡＢＣ科技有限公司", "ABC科技"),
        ("某某·餐饮（连锁）有限公司", "某某餐饮连锁"),
        ("有限公司", None),
        ("", None),
        (None, None),
    ],
)
def test_employer_name_normalisation(name: str | None, expected: str | None) -> None:
    assert normalize_employer_name(name) == expected


def test_company_form_dropped_once_longest_first() -> None:
    assert normalize_employer_name("某某分公司") == "某某"
    assert normalize_employer_name("某某厂有限公司") == "某某厂"


def test_masked_names() -> None:
    assert mask_name("陈望") == "陈*"
    assert mask_name("欧阳小明") == "欧***"
    assert mask_name("陈") == "陈*"
    assert mask_name("") is None


def test_shingle_jaccard_ignores_spaces_and_is_keyed() -> None:
    a = shingles("拖欠 三个月 工资", KEY)
    assert a == shingles("拖欠三个月工资", KEY)
    assert jaccard(a, a) == 1.0
    assert jaccard(a, shingles("工伤认定", KEY)) == 0.0
    assert shingles("拖欠三个月工资", KEY) != shingles("拖欠三个月工资", b"other-key")


def test_pseudonyms_are_stable_per_person_and_key() -> None:
    one = report(appeal_id="A", phone="13812345678", id_no=id_number(1))
    two = report(appeal_id="B", phone="13900000000", id_no=id_number(1))
    assert one.complainant is not None
    assert two.complainant is not None
    assert one.complainant.person_key == two.complainant.person_key
    other_key = Normalizer(b"another-key").normalize(
        appeal_envelope(appeal_id="A", phone="13812345678", id_no=id_number(1)), "s"
    )
    assert other_key.complainant is not None
    assert other_key.complainant.person_key != one.complainant.person_key
    assert set(one.person_tokens) & set(two.person_tokens)


def test_no_clear_id_or_phone_in_the_normalised_report() -> None:
    ident, phone = id_number(5), "13812345678"
    normalized = report(
        phone=phone,
        id_no=ident,
        content=f"我的身份证{ident}，电话{phone}，座机0755-26881234",
        address=f"南山区某路1号 联系{phone}",
        employer_address="南山区某路2号 电话0755-26881234",
    )
    text = normalized.to_json().decode()
    assert ident not in text
    assert phone not in text
    assert "26881234" not in text
    assert not contains_numbers(text)
    assert normalized.complainant is not None
    assert normalized.complainant.phone_masked == "138****5678"
    assert normalized.complainant.name_masked == "陈*"
    assert "138****5678" in normalized.summary


def test_numbers_in_any_form_are_masked_in_every_text_that_leaves_the_router() -> None:
    normalized = report(
        phone="13812345678",
        title="电话 138-1234-5678",
        content="身份证440305 19900101 123X，座机(0755)2688 1234，欠薪82970元",
        address="南山区某路1号 联系+86 138 1234 5678",
        employer="深圳市１３８１２３４５６７８电子厂",
        employer_address="南山区某路2号 电话0755 2688 1234",
    )
    text = normalized.to_json().decode()
    for clear in ("12345678", "19900101", "26881234", "１２３４５６７８"):
        assert clear not in text
    assert normalized.employer is not None
    assert normalized.employer.name == "深圳市１３８****５６７８电子厂"
    assert normalized.employer_match is not None
    assert normalized.employer_match.name == "138****5678电子"  # folded, then masked
    assert normalized.summary.startswith("电话 138****5678\n身份证440305********123X")
    assert "82970元" in normalized.summary


def test_anonymous_report_has_no_complainant_and_no_identity() -> None:
    normalized = report(name=None, phone=None, id_no=None)
    assert normalized.complainant is None
    assert normalized.person_tokens == []


def test_unknown_category_is_a_normalize_error() -> None:
    with pytest.raises(NormalizeError) as info:
        Normalizer(KEY).normalize(appeal_envelope(category="LAB-NOPE"), "s")
    assert info.value.kind == "unknown_category"


def test_invalid_record_error_names_fields_not_values() -> None:
    record = appeal(phone="13812345678") | {"people_involved": "13812345678x"}
    env = envelope(Channel.CITIZEN_APP, record, "MY1", "1")
    with pytest.raises(NormalizeError) as info:
        Normalizer(KEY).normalize(env, "s")
    assert info.value.kind == "record_invalid"
    assert "people_involved" in info.value.message
    assert "13812345678" not in info.value.message


def test_envelope_id_must_match_the_record() -> None:
    env = envelope(Channel.HOTLINE_12351, hotline_order("GD1"), "GD2", "v")
    with pytest.raises(NormalizeError) as info:
        Normalizer(KEY).normalize(env, "s")
    assert info.value.kind == "id_mismatch"


def test_version_keys_sort_versions() -> None:
    assert version_key(Channel.CITIZEN_APP, "10") > version_key(Channel.CITIZEN_APP, "9")
    assert version_key(Channel.PETITION_WINDOW, "20250523-14#10") > version_key(
        Channel.PETITION_WINDOW, "20250523-14#9"
    )
    assert version_key(Channel.PETITION_WINDOW, "20250523-15#1") > version_key(
        Channel.PETITION_WINDOW, "20250523-14#9"
    )
    assert version_key(Channel.LEGAL_STATIONS, "2025-06-02T10:30:00+08:00") > version_key(
        Channel.LEGAL_STATIONS, "2025-06-02T02:29:00+00:00"
    )
    assert version_key(Channel.HOTLINE_12351, "2025-05-23 14:20:41") > version_key(
        Channel.HOTLINE_12351, "2025-05-23 14:20:40"
    )


def test_appeal_builder_round_trip() -> None:
    assert appeal()["appellant"]["name"] == "陈望"
