"""Chinese personal names and complainant identities."""

from __future__ import annotations

import random

from schemas.shenzhen import DISTRICTS
from simulators.scenario.ids import make_id_number, make_landline, make_mobile
from simulators.scenario.model import Person

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉斌宇浩凯健俊帆帅旭宁龙林欣婷雪琳"
    "晨阳佳嘉怡子文博志海建国兵春梅兰凤云飞亮成永新兴德福荣贵生金水友连根小少冬秋晓丹"
)
LAWYERS = ("马询", "林律", "黄慧", "周正", "陈法", "吴思远", "郑立", "何平安")


def _place_given_names() -> tuple[str, ...]:
    names = {n for d in DISTRICTS for n in (d.short, *d.streets, *d.places) if len(n) == 2}
    return tuple(sorted(names))


# Two-character place names that make plausible given names (张光明, 李南山, 王福田).
PLACE_GIVEN = _place_given_names()


def make_name(rng: random.Random) -> str:
    """A realistic two- or three-character Chinese name; now and then one holding a place."""
    if rng.random() < 0.08:
        return rng.choice(SURNAMES) + rng.choice(PLACE_GIVEN)
    given_len = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_len))


def make_person(rng: random.Random) -> Person:
    """A complainant with a valid ID number, a mobile and sometimes a Shenzhen landline."""
    male = rng.random() < 0.6
    return Person(
        name=make_name(rng),
        mobile=make_mobile(rng),
        id_number=make_id_number(rng, male=male),
        landline=make_landline(rng) if rng.random() < 0.15 else None,
    )


def mask_name(name: str) -> str:
    """The name as a clerk may abbreviate it in a summary (surname + 某)."""
    return name[0] + "某"


def phone_variant(rng: random.Random, mobile: str) -> str:
    """How people write the same mobile: plain, spaced, dashed or with +86/86."""
    roll = rng.random()
    if roll < 0.7:
        return mobile
    if roll < 0.8:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if roll < 0.9:
        return f"+86 {mobile}"
    return f"86-{mobile}"


def id_variant(rng: random.Random, id_number: str) -> str:
    """The same ID number, with a lower-case ``x`` check character now and then."""
    if id_number.endswith("X") and rng.random() < 0.4:
        return id_number[:-1] + "x"
    return id_number
