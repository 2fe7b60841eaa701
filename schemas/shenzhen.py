"""Shenzhen's districts, streets and well-known places (``shared/spec/shenzhen.md``).

Data only: the router builds its gazetteer from it, the simulators draw
addresses from it, topic provisioning takes the district slugs from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """One district federation's territory and its dispatch queue slug."""

    slug: str
    name: str  # official name with suffix, e.g. 南山区
    short: str  # name without 区 / 新区, e.g. 南山
    code: str | None  # national code; None for 大鹏 and 深汕 (see ``codes``)
    streets: tuple[str, ...]  # street (街道) or town (镇) names without suffix
    places: tuple[str, ...]  # well-known places inside the district
    street_suffix: str = "街道"


DISTRICTS: tuple[District, ...] = (
    District(
        "futian",
        "福田区",
        "福田",
        "440304",
        ("园岭", "南园", "福田", "沙头", "香蜜湖", "梅林", "莲花", "华富", "福保", "华强北"),
        ("车公庙", "岗厦", "皇岗", "会展中心", "华强北", "上沙", "下沙"),
    ),
    District(
        "luohu",
        "罗湖区",
        "罗湖",
        "440303",
        ("桂园", "黄贝", "东门", "翠竹", "东晓", "南湖", "笋岗", "东湖", "莲塘", "清水河"),
        ("国贸", "东门", "蔡屋围", "水贝", "莲塘口岸"),
    ),
    District(
        "nanshan",
        "南山区",
        "南山",
        "440305",
        ("南头", "南山", "沙河", "蛇口", "招商", "粤海", "桃源", "西丽"),
        ("前海", "后海", "科技园", "深圳湾", "华侨城", "蛇口港", "大学城", "留仙洞"),
    ),
    District(
        "yantian",
        "盐田区",
        "盐田",
        "440308",
        ("沙头角", "海山", "盐田", "梅沙"),
        ("大梅沙", "小梅沙", "沙头角", "盐田港", "东部华侨城"),
    ),
    District(
        "baoan",
        "宝安区",
        "宝安",
        "440306",
        ("新安", "西乡", "航城", "福永", "福海", "沙井", "新桥", "松岗", "燕罗", "石岩"),
        ("宝安中心", "宝安机场", "会展湾", "沙井", "松岗", "石岩", "福永"),
    ),
    District(
        "longgang",
        "龙岗区",
        "龙岗",
        "440307",
        ("平湖", "坂田", "布吉", "南湾", "横岗", "龙城", "龙岗", "坪地", "吉华", "宝龙", "园山"),
        ("坂田", "华为基地", "大运", "布吉", "平湖", "横岗"),
    ),
    District(
        "longhua",
        "龙华区",
        "龙华",
        "440309",
        ("观湖", "民治", "龙华", "大浪", "福城", "观澜"),
        ("观澜", "民治", "大浪", "龙华中心"),
    ),
    District(
        "pingshan",
        "坪山区",
        "坪山",
        "440310",
        ("坪山", "马峦", "碧岭", "石井", "坑梓", "龙田"),
        ("坪山中心", "坑梓"),
    ),
    District(
        "guangming",
        "光明区",
        "光明",
        "440311",
        ("光明", "公明", "新湖", "凤凰", "玉塘", "马田"),
        ("光明科学城", "公明"),
    ),
    District(
        "dapeng",
        "大鹏新区",
        "大鹏",
        None,
        ("葵涌", "大鹏", "南澳"),
        ("葵涌", "南澳", "较场尾"),
    ),
    District(
        "shenshan",
        "深汕特别合作区",
        "深汕",
        None,
        ("鹅埠", "小漠", "鲘门", "鮜门", "赤石"),
        ("鹅埠", "鲘门"),
        street_suffix="镇",
    ),
)

DISTRICT_BY_SLUG: dict[str, District] = {d.slug: d for d in DISTRICTS}

# National codes as upstream systems send them. 440307 is 龙岗's code but 大鹏's
# streets carry it too; 441521 (汕尾 海丰县) is carried by 深汕's towns.
CODES: dict[str, str] = {d.code: d.slug for d in DISTRICTS if d.code is not None} | {
    "441521": "shenshan"
}

# Other cities an address may name; a location there is outside jurisdiction.
OTHER_CITIES: tuple[str, ...] = (
    "东莞",
    "惠州",
    "广州",
    "佛山",
    "珠海",
    "中山",
    "江门",
    "汕尾",
    "汕头",
    "河源",
    "清远",
    "肇庆",
    "湛江",
    "茂名",
    "阳江",
    "韶关",
    "梅州",
    "潮州",
    "揭阳",
    "云浮",
    "香港",
    "澳门",
    "长沙",
    "武汉",
    "北京",
    "上海",
)
