"""Person names cut out of free text before the gazetteer reads it (routing rule 3).

A district, street or place name that is part of a person's name (张光明 ->
光明, 李南山 -> 南山, 王福田 -> 福田) is no evidence of where the problem is.
A name is known from, in this order:

1. the record's own name field (the complainant), wherever the text holds it,
   unless that occurrence lies inside a place name (a person called 龙华 who
   writes 在龙华上班);
2. 我叫 / 名叫 / 本人叫 / 我的名字是 followed by two to four characters: the
   Chinese characters up to the next punctuation, space or digit when they are
   at most four, else as in 3;
3. 本人 / 我是 followed by a name, and a name before 先生 / 女士 / 师傅: the
   longest run of one to four characters (two to four after 本人 / 我是) that
   starts with a surname and neither starts at or inside a place name nor ends
   inside one (本人在南山工作 cuts nothing; 在南山张先生 cuts 张).

Cut names become spaces, so offsets stay and no new name forms across a cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from router.normalize.place.gazetteer import Gazetteer

# Common Chinese surnames (single characters), enough to tell a name from a phrase.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳"
    "甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边"
    "卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗"
    "燕楚鄢劳谌奚皮粟冼蔺楼满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣"
    "晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉"
    "银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
MAX_NAME = 4  # surname + up to three characters (a four-character name holds 香蜜湖)

_STRONG = re.compile(r"我叫|名叫|本人叫|我的名字是")
_WEAK = re.compile(r"本人|我是")
_HONORIFIC = re.compile(r"先生|女士|师傅")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


class NameCutter:
    """Cuts person names out of a text, with the gazetteer's names to stay aligned with."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self._gaz = gazetteer

    def cut(self, text: str | None, person_name: str | None) -> str | None:
        """``text`` with every person name in it (see the module doc) replaced by spaces."""
        if not text:
            return text
        places = self._gaz.spans(text)
        names = list(self._names(text, person_name, places))
        if not names:
            return text
        chars = list(text)
        for start, end in names:
            chars[start:end] = " " * (end - start)
        return "".join(chars)

    def _names(
        self, text: str, person_name: str | None, places: list[tuple[int, int]]
    ) -> Iterator[tuple[int, int]]:
        name = (person_name or "").strip()
        if len(name) >= 2:
            for m in re.finditer(re.escape(name), text):
                if not any(s <= m.start() and m.end() <= e for s, e in places):
                    yield m.span()
        for m in _STRONG.finditer(text):
            run = m.end()
            while run < len(text) and run - m.end() <= MAX_NAME and _is_han(text[run]):
                run += 1
            if 2 <= run - m.end() <= MAX_NAME:
                yield m.end(), run
            elif (found := self._after(text, m.end(), places, shortest=2)) is not None:
                yield found
        for m in _WEAK.finditer(text):
            if (found := self._after(text, m.end(), places, shortest=2)) is not None:
                yield found
        for m in _HONORIFIC.finditer(text):
            if (found := self._before(text, m.start(), places)) is not None:
                yield found

    def _after(
        self, text: str, start: int, places: list[tuple[int, int]], shortest: int
    ) -> tuple[int, int] | None:
        """The longest name starting at ``start`` (``shortest`` to MAX_NAME characters)."""
        for length in range(MAX_NAME, shortest - 1, -1):
            if _is_name(text, start, start + length, places):
                return start, start + length
        return None

    def _before(self, text: str, end: int, places: list[tuple[int, int]]) -> tuple[int, int] | None:
        """The longest name ending at ``end`` (one to MAX_NAME characters)."""
        for length in range(MAX_NAME, 0, -1):
            if _is_name(text, end - length, end, places):
                return end - length, end
        return None


def _is_name(text: str, start: int, end: int, places: list[tuple[int, int]]) -> bool:
    """A surname and given name at ``text[start:end]`` that cuts no place name apart."""
    if start < 0 or end > len(text) or text[start] not in SURNAMES:
        return False
    if not all(_is_han(ch) for ch in text[start:end]):
        return False
    return not any(s <= start < e or s < end < e for s, e in places)
