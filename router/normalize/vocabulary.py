"""Each channel's category and status labels, mapped to the canonical vocabularies."""

from __future__ import annotations

from schemas.channels import Channel
from schemas.complaint import Category, Status

_C = Category
CATEGORIES: dict[Channel, dict[str, Category]] = {
    Channel.CITIZEN_APP: {
        "LAB-WAGE": _C.WAGE_ARREARS,
        "LAB-INJURY": _C.WORK_INJURY,
        "LAB-INSURANCE": _C.SOCIAL_INSURANCE,
        "LAB-CONTRACT": _C.LABOR_CONTRACT,
        "LAB-DISMISS": _C.DISMISSAL,
        "LAB-HOURS": _C.WORKING_HOURS,
        "LAB-SAFETY": _C.OCCUPATIONAL_SAFETY,
        "LAB-OTHER": _C.OTHER,
    },
    Channel.PETITION_WINDOW: {
        "拖欠工资": _C.WAGE_ARREARS,
        "工伤待遇": _C.WORK_INJURY,
        "社会保险": _C.SOCIAL_INSURANCE,
        "劳动合同": _C.LABOR_CONTRACT,
        "解除劳动合同": _C.DISMISSAL,
        "加班休假": _C.WORKING_HOURS,
        "劳动保护": _C.OCCUPATIONAL_SAFETY,
        "其他": _C.OTHER,
    },
    Channel.HOTLINE_12351: {
        "欠薪": _C.WAGE_ARREARS,
        "工伤": _C.WORK_INJURY,
        "社保": _C.SOCIAL_INSURANCE,
        "劳动合同": _C.LABOR_CONTRACT,
        "辞退": _C.DISMISSAL,
        "加班": _C.WORKING_HOURS,
        "职业安全": _C.OCCUPATIONAL_SAFETY,
        "咨询": _C.OTHER,
        "其他": _C.OTHER,
    },
    Channel.PROVINCIAL_PETITION: {
        "劳动社保-拖欠工资": _C.WAGE_ARREARS,
        "劳动社保-工伤保险": _C.WORK_INJURY,
        "劳动社保-社会保险": _C.SOCIAL_INSURANCE,
        "劳动社保-劳动合同": _C.LABOR_CONTRACT,
        "劳动社保-解除劳动关系": _C.DISMISSAL,
        "劳动社保-工时休假": _C.WORKING_HOURS,
        "劳动社保-劳动保护": _C.OCCUPATIONAL_SAFETY,
        "劳动社保-其他": _C.OTHER,
    },
    Channel.LEGAL_STATIONS: {
        "欠薪追讨": _C.WAGE_ARREARS,
        "工伤认定": _C.WORK_INJURY,
        "工伤赔偿": _C.WORK_INJURY,
        "社保争议": _C.SOCIAL_INSURANCE,
        "劳动合同争议": _C.LABOR_CONTRACT,
        "违法解除": _C.DISMISSAL,
        "加班费争议": _C.WORKING_HOURS,
        "职业病": _C.OCCUPATIONAL_SAFETY,
        "劳动争议咨询": _C.OTHER,
    },
}

_S = Status
STATUSES: dict[Channel, dict[str, Status]] = {
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


def category_of(channel: Channel, label: str) -> Category | None:
    """The canonical category of ``channel``'s ``label``, None if the label is unknown."""
    return CATEGORIES[channel].get(label.strip())


def status_of(channel: Channel, label: str) -> Status | None:
    """The normalised status of ``channel``'s ``label``, None if the label is unknown."""
    return STATUSES[channel].get(label.strip())
