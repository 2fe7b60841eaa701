"""The generator's fixed choices: the channels' vocabularies (from :mod:`schemas.vocabulary`),
clerks, weights, station prefixes."""

from __future__ import annotations

from schemas.channels import Channel
from schemas.vocabulary import CATEGORY_LABELS, PETITION_CSV_HEADER, STATUS_LABELS

CSV_HEADER = PETITION_CSV_HEADER
CLERKS = ("刘晓", "陈婧", "王海", "张敏", "李强")

# Per channel, per category (as a plain string): the labels the channel uses for it.
LABELS: dict[Channel, dict[str, tuple[str, ...]]] = {
    channel: {str(category): labels for category, labels in by_category.items()}
    for channel, by_category in CATEGORY_LABELS.items()
}
CITIZEN_STATUSES = tuple(STATUS_LABELS[Channel.CITIZEN_APP])  # submitted ... closed
HOTLINE_STATUSES = tuple(STATUS_LABELS[Channel.HOTLINE_12351])  # 待派单 ... 已办结
# The generated station cases never go to court (诉讼, 执行): 咨询, 调解, 仲裁, 结案.
LEGAL_STAGES = tuple(s for s in STATUS_LABELS[Channel.LEGAL_STATIONS] if s not in ("诉讼", "执行"))

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
