"""The report's charts: matplotlib (Agg, no display) drawn to SVG, text as outlines.

Text is drawn with Debian's Noto Sans CJK (fonts-noto-cjk) and turned into
paths (``svg.fonttype: path``), so a chart shows the same in a browser and in
the PDF and needs no font, file or network at display time. Each function
returns a ``data:`` URI for an ``<img>``.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "DejaVu Sans"]
BLUE, ORANGE, GREY = "#1f5fa8", "#e07b24", "#9aa5b1"
_STYLE: Any = {
    "font.family": "sans-serif",
    "font.sans-serif": CJK_FONTS,
    "axes.unicode_minus": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "unionhub",  # stable ids: the same data draws the same file
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def trend_chart(trend: list[tuple[str, int, int]]) -> str:
    """New cases and reports per week, 12 weeks, as lines."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 2.6))
        labels = [label.split("-")[1] for label, _, _ in trend]
        ax.plot(labels, [r for _, _, r in trend], color=ORANGE, marker="o", label="诉求件 reports")
        ax.plot(labels, [n for _, n, _ in trend], color=BLUE, marker="o", label="新案件 new cases")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#e5e8ec")
        ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
        ax.set_title("近12周趋势 12-week trend", loc="right")
        return _uri(fig)


def category_chart(categories: dict[str, tuple[int, int]], labels: dict[str, str]) -> str:
    """New cases by category, this week beside last week, as horizontal bars."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 0.34 * max(len(categories), 3) + 0.8))
        names = [labels.get(c, c) for c in categories][::-1]
        this = [v[0] for v in categories.values()][::-1]
        last = [v[1] for v in categories.values()][::-1]
        ys = range(len(names))
        ax.barh([y + 0.2 for y in ys], this, height=0.4, color=BLUE, label="本周 this week")
        ax.barh([y - 0.2 for y in ys], last, height=0.4, color=GREY, label="上周 last week")
        ax.set_yticks(list(ys), names)
        ax.grid(axis="x", color="#e5e8ec")
        ax.legend(frameon=False, loc="lower right")
        ax.set_title("诉求类别 categories (new cases)", loc="left")
        return _uri(fig)


def district_chart(rows: list[tuple[str, float | None]], floor: float) -> str:
    """满意率 per district against the floor, bars below it in orange."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 2.4))
        names = [name for name, _ in rows]
        values = [(v or 0.0) * 100 for _, v in rows]
        colours = [ORANGE if v is not None and v < floor else BLUE for _, v in rows]
        ax.bar(names, values, color=colours)
        ax.axhline(floor * 100, color="#c0392b", linestyle="--", linewidth=1)
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.tick_params(axis="x", labelrotation=0, labelsize=8)
        ax.set_title(f"满意率 satisfaction (floor {floor:.0%})", loc="left")
        return _uri(fig)
