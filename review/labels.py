"""Chinese and English labels of the contract's codes, for the report and the board."""

from __future__ import annotations

from schemas.shenzhen import DISTRICTS

DISTRICT_ZH: dict[str, str] = {d.slug: d.name for d in DISTRICTS} | {"city": "全市"}
CATEGORY: dict[str, tuple[str, str]] = {
    "wage_arrears": ("欠薪", "wage arrears"),
    "work_injury": ("工伤", "work injury"),
    "social_insurance": ("社保", "social insurance"),
    "labor_contract": ("劳动合同", "labour contract"),
    "dismissal": ("解除劳动关系", "dismissal"),
    "working_hours": ("工时休假", "working hours"),
    "occupational_safety": ("劳动保护", "occupational safety"),
    "other": ("其他", "other"),
}
CHANNEL: dict[str, tuple[str, str]] = {
    "citizen_app": ("市民App", "citizen app"),
    "petition_window": ("信访窗口", "petition window"),
    "hotline_12351": ("12351热线", "12351 hotline"),
    "provincial_petition": ("省信访平台", "provincial petitions"),
    "legal_stations": ("法律服务站", "legal stations"),
}
STATUS: dict[str, tuple[str, str]] = {
    "dispatched": ("待签收", "dispatched"),
    "accepted": ("已签收", "accepted"),
    "in_progress": ("办理中", "in progress"),
    "suspended": ("中止", "suspended"),
    "resolved": ("已办结", "resolved"),
    "returned": ("已退回", "returned"),
    "closed": ("已关闭", "closed"),
}
CLOCK: dict[str, tuple[str, str]] = {
    "accept": ("签收", "accept"),
    "contact": ("联系", "contact"),
    "resolve": ("办结", "resolve"),
}
LEVEL: dict[str, tuple[str, str]] = {
    "warning": ("预警", "warning"),
    "overdue": ("超期督办", "overdue"),
    "escalated": ("升级督办", "escalated"),
    "reopened": ("重办", "reopened"),
    "dissatisfied": ("不满意", "dissatisfied"),
}
ALERT_KIND: dict[str, tuple[str, str]] = {
    "group_dispute": ("群体性纠纷", "group dispute"),
    "mass_report": ("集体诉求", "mass report"),
}


def zh(table: dict[str, tuple[str, str]], code: str | None) -> str:
    """The Chinese label of ``code`` (the code itself when unknown, ``-`` for None)."""
    if code is None:
        return "-"
    return table.get(code, (code, code))[0]


def en(table: dict[str, tuple[str, str]], code: str | None) -> str:
    """The English label of ``code``."""
    if code is None:
        return "-"
    return table.get(code, (code, code))[1]


def district_zh(slug: str | None) -> str:
    """福田区..., 全市 for the city, 分拨 (triage) for None."""
    return DISTRICT_ZH.get(slug, slug) if slug is not None else "分拨中心"


def district_short(slug: str) -> str:
    """福田, 大鹏, 深汕...: the name without 区 / 新区 / 特别合作区."""
    short = {d.slug: d.short for d in DISTRICTS}.get(slug, slug)
    return "深汕" if short.startswith("深汕") else short
