"""The channels' own vocabularies (``shared/spec/channels.md``), written down once.

Category labels (and their canonical category, dispatch.md's table), status
labels, the petition window's CSV header and the provincial system's XML
namespace. The router reads records with them, the connectors parse with them,
the simulators serve with them. (``simulators/truth`` keeps its own copy on
purpose: it is the independent second implementation the others are judged by.)
"""

from __future__ import annotations

from schemas.channels import Channel
from schemas.complaint import Category, Status

_C = Category

# Per channel, per canonical category: the channel's labels for it, in the spec's order.
CATEGORY_LABELS: dict[Channel, dict[Category, tuple[str, ...]]] = {
    Channel.CITIZEN_APP: {
        _C.WAGE_ARREARS: ("LAB-WAGE",),
        _C.WORK_INJURY: ("LAB-INJURY",),
        _C.SOCIAL_INSURANCE: ("LAB-INSURANCE",),
        _C.LABOR_CONTRACT: ("LAB-CONTRACT",),
        _C.DISMISSAL: ("LAB-DISMISS",),
        _C.WORKING_HOURS: ("LAB-HOURS",),
        _C.OCCUPATIONAL_SAFETY: ("LAB-SAFETY",),
        _C.OTHER: ("LAB-OTHER",),
    },
    Channel.PETITION_WINDOW: {
        _C.WAGE_ARREARS: ("拖欠工资",),
        _C.WORK_INJURY: ("工伤待遇",),
        _C.SOCIAL_INSURANCE: ("社会保险",),
        _C.LABOR_CONTRACT: ("劳动合同",),
        _C.DISMISSAL: ("解除劳动合同",),
        _C.WORKING_HOURS: ("加班休假",),
        _C.OCCUPATIONAL_SAFETY: ("劳动保护",),
        _C.OTHER: ("其他",),
    },
    Channel.HOTLINE_12351: {
        _C.WAGE_ARREARS: ("欠薪",),
        _C.WORK_INJURY: ("工伤",),
        _C.SOCIAL_INSURANCE: ("社保",),
        _C.LABOR_CONTRACT: ("劳动合同",),
        _C.DISMISSAL: ("辞退",),
        _C.WORKING_HOURS: ("加班",),
        _C.OCCUPATIONAL_SAFETY: ("职业安全",),
        _C.OTHER: ("咨询", "其他"),
    },
    Channel.PROVINCIAL_PETITION: {
        _C.WAGE_ARREARS: ("劳动社保-拖欠工资",),
        _C.WORK_INJURY: ("劳动社保-工伤保险",),
        _C.SOCIAL_INSURANCE: ("劳动社保-社会保险",),
        _C.LABOR_CONTRACT: ("劳动社保-劳动合同",),
        _C.DISMISSAL: ("劳动社保-解除劳动关系",),
        _C.WORKING_HOURS: ("劳动社保-工时休假",),
        _C.OCCUPATIONAL_SAFETY: ("劳动社保-劳动保护",),
        _C.OTHER: ("劳动社保-其他",),
    },
    Channel.LEGAL_STATIONS: {
        _C.WAGE_ARREARS: ("欠薪追讨",),
        _C.WORK_INJURY: ("工伤认定", "工伤赔偿"),
        _C.SOCIAL_INSURANCE: ("社保争议",),
        _C.LABOR_CONTRACT: ("劳动合同争议",),
        _C.DISMISSAL: ("违法解除",),
        _C.WORKING_HOURS: ("加班费争议",),
        _C.OCCUPATIONAL_SAFETY: ("职业病",),
        _C.OTHER: ("劳动争议咨询",),
    },
}

_S = Status
# Per channel: its status (or stage) labels in the order a record goes through them.
STATUS_LABELS: dict[Channel, dict[str, Status]] = {
    Channel.CITIZEN_APP: {
        "submitted": _S.RECEIVED,
        "accepted": _S.ACCEPTED,
        "transferred": _S.TRANSFERRED,
        "closed": _S.CLOSED,
    },
    # The window and the provincial system publish registrations, with no status.
    Channel.PETITION_WINDOW: {"registered": _S.RECEIVED},
    Channel.PROVINCIAL_PETITION: {"registered": _S.RECEIVED},
    Channel.HOTLINE_12351: {
        "待派单": _S.RECEIVED,
        "已派单": _S.ACCEPTED,
        "处理中": _S.IN_PROGRESS,
        "已办结": _S.CLOSED,
    },
    Channel.LEGAL_STATIONS: {
        "咨询": _S.RECEIVED,
        "调解": _S.IN_PROGRESS,
        "仲裁": _S.IN_PROGRESS,
        "诉讼": _S.IN_PROGRESS,
        "执行": _S.IN_PROGRESS,
        "结案": _S.CLOSED,
    },
}

# petition_window: the one header row of every export.
PETITION_CSV_HEADER: tuple[str, ...] = (
    "登记编号", "登记时间", "来访人姓名", "联系电话", "身份证号", "单位名称",
    "单位地址", "所属区", "诉求类别", "诉求内容", "来访人数", "接待人",
)  # fmt: skip

# provincial_petition: the namespace of every element (prefix ``xf``).
PROVINCIAL_XML_NAMESPACE = "http://xf.gd.gov.cn/schema/petition/1.0"


def category_labels(channel: Channel) -> dict[str, Category]:
    """``channel``'s category labels, each with its canonical category."""
    return {label: cat for cat, labels in CATEGORY_LABELS[channel].items() for label in labels}
