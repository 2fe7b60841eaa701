"""The generator's fixed choices: channel labels, the CSV header, weights, station prefixes."""

from __future__ import annotations

from schemas.channels import Channel

CSV_HEADER = [
    "登记编号", "登记时间", "来访人姓名", "联系电话", "身份证号", "单位名称",
    "单位地址", "所属区", "诉求类别", "诉求内容", "来访人数", "接待人",
]  # fmt: skip
CLERKS = ("刘晓", "陈婧", "王海", "张敏", "李强")

LABELS: dict[Channel, dict[str, tuple[str, ...]]] = {
    Channel.CITIZEN_APP: {
        "wage_arrears": ("LAB-WAGE",), "work_injury": ("LAB-INJURY",),
        "social_insurance": ("LAB-INSURANCE",), "labor_contract": ("LAB-CONTRACT",),
        "dismissal": ("LAB-DISMISS",), "working_hours": ("LAB-HOURS",),
        "occupational_safety": ("LAB-SAFETY",), "other": ("LAB-OTHER",),
    },
    Channel.PETITION_WINDOW: {
        "wage_arrears": ("拖欠工资",), "work_injury": ("工伤待遇",),
        "social_insurance": ("社会保险",), "labor_contract": ("劳动合同",),
        "dismissal": ("解除劳动合同",), "working_hours": ("加班休假",),
        "occupational_safety": ("劳动保护",), "other": ("其他",),
    },
    Channel.HOTLINE_12351: {
        "wage_arrears": ("欠薪",), "work_injury": ("工伤",), "social_insurance": ("社保",),
        "labor_contract": ("劳动合同",), "dismissal": ("辞退",), "working_hours": ("加班",),
        "occupational_safety": ("职业安全",), "other": ("咨询", "其他"),
    },
    Channel.PROVINCIAL_PETITION: {
        c: ("劳动社保-" + n,)
        for c, n in (
            ("wage_arrears", "拖欠工资"), ("work_injury", "工伤保险"),
            ("social_insurance", "社会保险"), ("labor_contract", "劳动合同"),
            ("dismissal", "解除劳动关系"), ("working_hours", "工时休假"),
            ("occupational_safety", "劳动保护"), ("other", "其他"),
        )
    },
    Channel.LEGAL_STATIONS: {
        "wage_arrears": ("欠薪追讨",), "work_injury": ("工伤认定", "工伤赔偿"),
        "social_insurance": ("社保争议",), "labor_contract": ("劳动合同争议",),
        "dismissal": ("违法解除",), "working_hours": ("加班费争议",),
        "occupational_safety": ("职业病",), "other": ("劳动争议咨询",),
    },
}  # fmt: skip

CHANNEL_WEIGHTS = (
    (Channel.CITIZEN_APP, 35),
    (Channel.HOTLINE_12351, 25),
    (Channel.PETITION_WINDOW, 15),
    (Channel.PROVINCIAL_PETITION, 15),
    (Channel.LEGAL_STATIONS, 10),
)
DISTRICT_WEIGHTS = {
    "futian": 10, "luohu": 8, "nanshan": 12, "yantian": 3, "baoan": 16, "longgang": 16,
    "longhua": 12, "pingshan": 4, "guangming": 5, "dapeng": 3, "shenshan": 2,
}  # fmt: skip
STATION_PREFIX = {
    "futian": "FT", "luohu": "LH", "nanshan": "NS", "yantian": "YT", "baoan": "BA",
    "longgang": "LG", "longhua": "LW", "pingshan": "PS", "guangming": "GM", "dapeng": "DP",
    "shenshan": "SS",
}  # fmt: skip
