"""属地 and person names: a place name inside a person's name places nothing (rule 3)."""

from __future__ import annotations

import pytest

from router.normalize.normalizer import Normalizer
from router.normalize.place.gazetteer import Gazetteer
from router.normalize.place.names import NameCutter
from schemas.channels import Channel
from schemas.complaint import Placement
from schemas.shenzhen import DISTRICTS
from tests.unit.router_builders import KEY, appeal, envelope, hotline_order

CUT = NameCutter(Gazetteer())

# Every district, street and listed place name of shenzhen.md that fits in a given name.
NAMED_PLACES = sorted(
    {(n, d.slug) for d in DISTRICTS for n in (d.short, *d.streets, *d.places) if len(n) <= 3}
)
# Where each test's case really is: a street of another district than the name's.
ELSEWHERE = {"baoan": ("园岭街道", "futian")}
DEFAULT_ELSEWHERE = ("西乡街道", "baoan")


def place(content: str, name: str | None = None, **kwargs: object) -> Placement:
    record = appeal(content=content, title="", name=name, district_name=None, **kwargs)  # type: ignore[arg-type]
    env = envelope(Channel.CITIZEN_APP, record, record["appeal_id"], "1")
    return Normalizer(KEY).normalize(env, "t-0-0").placement


@pytest.mark.parametrize(("place_name", "slug"), NAMED_PLACES, ids=[n for n, _ in NAMED_PLACES])
@pytest.mark.parametrize(
    ("form", "with_field"),
    [
        ("我叫{name}，公司在{where}拖欠工资", False),
        ("本人{name}，公司在{where}拖欠工资", False),
        ("{name}先生反映公司在{where}拖欠工资", False),
        ("联系{name}师傅，公司在{where}拖欠工资", False),
        ("{name}反映公司在{where}拖欠工资", True),  # known from the name field only
    ],
)
def test_a_place_inside_a_persons_name_is_no_evidence(
    place_name: str, slug: str, form: str, with_field: bool
) -> None:
    where, expected = ELSEWHERE.get(slug, DEFAULT_ELSEWHERE)
    person = "张" + place_name
    content = form.format(name=person, where=where)
    placement = place(content, name=person if with_field else "陈望")
    assert placement.district == expected, (content, placement.routing_reason)


@pytest.mark.parametrize(("place_name", "slug"), NAMED_PLACES, ids=[n for n, _ in NAMED_PLACES])
def test_a_name_alone_places_nothing(place_name: str, slug: str) -> None:
    person = "李" + place_name
    placement = place(f"我叫{person}，老板拖欠工资三个月", name=person)
    assert placement.district is None, placement.routing_reason


@pytest.mark.parametrize(
    ("content", "name", "slug"),
    [
        # The name is cut, the place beside it still counts.
        ("我叫李沙头，在沙头角海关旁的工厂上班", None, "yantian"),
        ("我叫王华侨，在东部华侨城上班", None, "yantian"),
        ("我叫石岩，在坪山石井街道上班", "石岩", "pingshan"),
        ("本人王坪地，工厂在坪山街道", None, "pingshan"),
        ("我叫张福永，在福田福保街道上班", None, "futian"),
        ("我叫刘园岭，在园山街道的厂里", None, "longgang"),
        ("我叫陈南湖，公司在南湾街道", None, "longgang"),
        ("我叫黄大鹏，在葵涌街道打工", None, "dapeng"),
        ("我叫林鹅埠，在鲘门镇", None, "shenshan"),
        # Nothing is cut that is not a name.
        ("本人在南山工作，公司拖欠工资", None, "nanshan"),
        ("我是龙岗人，在龙岗上班", None, "longgang"),
        ("在南山张先生的厂里做工", None, "nanshan"),
        ("我叫龙华，在龙华上班", "龙华", "longhua"),
        ("龙华反映：在龙华上班，老板欠薪", "龙华", "longhua"),
    ],
)
def test_names_next_to_the_traps_of_shenzhen(content: str, name: str | None, slug: str) -> None:
    assert place(content, name=name or "陈望").district == slug


def test_a_name_beside_a_road_name_leaves_no_evidence() -> None:
    # 宝安南路 is a road in 罗湖 (no evidence), 张宝安 a person: nothing places the case.
    assert place("我叫张宝安，公司在宝安南路", name="张宝安").district is None


def test_names_are_cut_from_the_employer_name_and_the_location_address_too() -> None:
    placement = place("老板拖欠工资", name="李南山", employer="李南山五金店")
    assert placement.district is None
    at_home = place("老板拖欠工资", address="找李南山师傅，西乡街道")
    assert at_home.district == "baoan"


def test_the_hotline_caller_name_is_known_too() -> None:
    order = hotline_order(
        caller_name="王福田", content="王福田来电：在光明街道的厂里欠薪", area="深圳市"
    )
    env = envelope(Channel.HOTLINE_12351, order, "GD1", "v1")
    assert Normalizer(KEY).normalize(env, "t-0-0").placement.district == "guangming"


@pytest.mark.parametrize(
    ("text", "name", "cut"),
    [
        ("我叫张光明，在宝安上班", None, "我叫   ，在宝安上班"),
        ("我叫张香蜜湖，在西乡", None, "我叫    ，在西乡"),
        ("本人在南山工作", None, "本人在南山工作"),
        ("在南山张先生那里", None, "在南山 先生那里"),
        ("张光明反映光明的工厂欠薪", "张光明", "   反映光明的工厂欠薪"),
        ("", "张光明", ""),
    ],
)
def test_cut_names_become_spaces(text: str, name: str | None, cut: str) -> None:
    assert CUT.cut(text, name) == cut
