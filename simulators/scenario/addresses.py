"""Addresses across Shenzhen's eleven districts (with the traps of shenzhen.md) and beyond.

Every road below is either in its district or a road name that carries another
district's name (宝安南路 and 布吉路 are in 罗湖; 新湖路 is in 宝安): a matcher
must not take those as evidence.
"""

from __future__ import annotations

import random

from schemas.shenzhen import DISTRICT_BY_SLUG

ROADS: dict[str, tuple[str, ...]] = {
    "futian": ("深南中路", "红荔路", "彩田路", "华强北路", "滨河大道", "金田路"),
    "luohu": ("宝安南路", "布吉路", "人民南路", "深南东路", "解放路", "翠竹路"),
    "nanshan": ("南海大道", "科苑路", "深南大道", "南山大道", "沙河西路", "学府路"),
    "yantian": ("沙盐路", "深盐路", "海景二路", "盐田路"),
    "baoan": ("宝安大道", "新湖路", "建安一路", "航城大道", "创业一路"),
    "longgang": ("龙岗大道", "布龙路", "深惠路", "黄阁路"),
    "longhua": ("民治大道", "梅龙大道", "人民路", "东环二路", "观澜大道"),
    "pingshan": ("坪山大道", "深汕路", "金牛路"),
    "guangming": ("光明大道", "华夏路", "东长路", "观光路"),
    "dapeng": ("鹏飞路", "迎宾路", "金岭路"),
    "shenshan": ("创富路", "深汕大道", "鹏城路"),
}

BUILDINGS = ("", "A栋", "B座12楼", "3栋2楼", "工业区5栋", "厂房1楼", "大厦1806室", "商务中心9楼")

# Whole addresses in other cities: outside the federation's jurisdiction.
OUTSIDE_ADDRESSES = (
    "东莞市长安镇振安中路88号",
    "东莞市塘厦镇林村工业区",
    "惠州市惠阳区淡水开城大道22号",
    "惠州市仲恺高新区和畅五路",
    "广州市白云区太和镇大源北路",
    "佛山市顺德区北滘镇工业大道",
)
OUTSIDE_AREAS = ("东莞市", "惠州市", "广州市", "佛山市")


def street_label(slug: str, street: str, rng: random.Random) -> str:
    """A street written with or without its suffix (街道, or 镇 for 深汕's towns)."""
    suffix = DISTRICT_BY_SLUG[slug].street_suffix
    return street + suffix if rng.random() < 0.75 else street


def district_label(slug: str, rng: random.Random) -> str:
    """A district written with or without 区 / 新区."""
    d = DISTRICT_BY_SLUG[slug]
    return d.name if rng.random() < 0.8 else d.short


def make_address(slug: str, rng: random.Random) -> str:
    """A realistic street address inside district ``slug``."""
    d = DISTRICT_BY_SLUG[slug]
    road = rng.choice(ROADS[slug])
    number = f"{rng.randrange(1, 3000)}号"
    building = rng.choice(BUILDINGS)
    street = rng.choice(d.streets)
    form = rng.randrange(5)
    if slug == "shenshan":
        return f"深汕特别合作区{street}镇{road}{number}{building}"
    if form == 0:
        return f"深圳市{d.name}{street_label(slug, street, rng)}{road}{number}{building}"
    if form == 1:
        return f"{district_label(slug, rng)}{street_label(slug, street, rng)}{road}{number}"
    if form == 2 and d.places:
        return f"深圳市{d.name}{rng.choice(d.places)}{building or '1栋'}"
    if form == 3:
        return f"深圳市{street}街道{road}{number}{building}"
    return f"深圳市{d.name}{road}{number}{building}"


def trap_address(slug: str, rng: random.Random) -> str | None:
    """An address built on one of shenzhen.md's traps for ``slug``, if it has one."""
    traps = {
        "yantian": ("深圳市盐田区沙头角深盐路2090号", "深圳市东部华侨城茶溪谷"),
        "luohu": ("深圳市罗湖区宝安南路3044号", "深圳市布吉路1021号水贝工业区"),
        "nanshan": ("深圳市前海深港合作区前湾一路1号", "深圳市华侨城创意园北区"),
        "dapeng": ("深圳市葵涌街道鹏飞路8号", "深圳市南澳较场尾民宿区"),
        "shenshan": ("深汕特别合作区鮜门镇鹏城路9号",),
        "baoan": ("深圳市宝安区新湖路99号",),
        "longgang": ("深圳市龙岗区龙岗大道8288号",),
    }.get(slug)
    return rng.choice(traps) if traps else None
