"""The five upstream channels of ``shared/spec/channels.md``."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """An upstream intake channel; its value is the name used in topics and configs."""

    CITIZEN_APP = "citizen_app"
    PETITION_WINDOW = "petition_window"
    HOTLINE_12351 = "hotline_12351"
    PROVINCIAL_PETITION = "provincial_petition"
    LEGAL_STATIONS = "legal_stations"
