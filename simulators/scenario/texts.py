"""Complaint titles and texts per category, in the words workers and clerks use.

Templates are free of place names; a generator adds a place phrase on purpose
(``{where}``) when the incident's location should show in the text.
"""

from __future__ import annotations

import random

CATEGORIES = (
    "wage_arrears", "work_injury", "social_insurance", "labor_contract",
    "dismissal", "working_hours", "occupational_safety", "other",
)  # fmt: skip

# Per category: (title, content template). {emp} employer as written, {n} a number,
# {amt} an amount, {where} a place phrase or "".
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "wage_arrears": (
        (
            "项目部拖欠工资",
            "我在{emp}{where}做工，老板已经拖欠{n}个月工资共{amt}元，多次讨要无果。",
        ),
        ("工厂欠薪不发", '{emp}{where}从上个月开始不发工资，说"等回款"，车间{n}十多人都没拿到钱。'),
        ("包工头跑路欠薪", "包工头跑了，{emp}说不归他们管，我们{n}个人的工资{amt}元没人给。"),
    ),
    "work_injury": (
        ("工伤不给认定", "我在{emp}{where}操作冲床时压伤右手，公司不给报工伤，只给了{amt}元。"),
        ("工伤待遇未支付", "去年在{emp}{where}摔伤腰部，已认定工伤{n}级，公司拖着不付伤残补助。"),
    ),
    "social_insurance": (
        ("公司不交社保", "入职{emp}{n}年，公司一直没有给我缴纳社会保险，要求补缴。"),
        ("社保断缴", "{emp}{where}从{n}月起停缴社保，工资条上却照样扣了个人部分。"),
    ),
    "labor_contract": (
        ("不签劳动合同", "在{emp}{where}工作{n}个月，公司不签劳动合同，要求支付双倍工资。"),
        ("合同到期不续签", '{emp}合同到期后不续签也不给补偿，口头说"等通知"。'),
    ),
    "dismissal": (
        ("违法辞退", '{emp}{where}以"业绩不好"为由当天辞退我，不给经济补偿金{amt}元。'),
        ("怀孕被辞退", "我怀孕{n}个月，{emp}找理由把我辞退，要求恢复劳动关系。"),
    ),
    "working_hours": (
        ("强制加班无加班费", "{emp}{where}每天要求加班到晚上十点，周末也不休息，从来不给加班费。"),
        ("年假不让休", "在{emp}工作{n}年，公司不安排年休假，也不给未休年假工资。"),
    ),
    "occupational_safety": (
        ("车间粉尘超标", "{emp}{where}车间粉尘很大，没有发口罩，好几个同事咳嗽，怀疑职业病。"),
        ("工地没有安全措施", "{emp}{where}工地高空作业没有安全绳，上个月已经有人摔伤。"),
    ),
    "other": (
        ("咨询劳动权益", "想咨询一下，{emp}要把我调到外地，不去就算自动离职，这样合法吗？"),
        ("押证件不还", "{emp}扣着我的身份证原件不还，说干满{n}年才给。"),
    ),
}

CONSULTATIONS = (
    "打电话咨询试用期被辞退有没有补偿。",
    "咨询怎么申请劳动仲裁，需要带什么材料。",
    "问工伤认定要多长时间，去哪里办。",
)

CLERK_NOTES = ("来访人情绪激动", "已告知仲裁途径", "携带工资条复印件", "")


def complaint(rng: random.Random, category: str, emp: str, where: str) -> tuple[str, str]:
    """A (title, content) pair for ``category`` about employer ``emp``."""
    title, body = rng.choice(TEMPLATES[category])
    content = body.format(
        emp=emp, where=where, n=rng.randrange(2, 9), amt=rng.randrange(30, 900) * 100
    )
    return title, content


def with_csv_hazards(rng: random.Random, content: str, phone: str | None) -> str:
    """A clerk's rendering of ``content``: ASCII commas, quotes, a line break, a typed phone."""
    extra = rng.choice(
        (
            "\n补充:工资条,考勤记录已提供",
            ',来访人称"老板说没钱"',
            "",
            "\r\n(第二次来访)",
        )
    )
    if phone is not None and rng.random() < 0.3:
        extra += f"，回访电话{phone}"
    return content + extra
