"""The weekly report written out: one HTML page and a PDF of the same content.

Jinja2 renders :class:`review.report.data.Weekly` with the templates of this
package; WeasyPrint lays the same HTML out on A4 with Noto Sans CJK (Debian's
fonts-noto-cjk, found through fontconfig). Nothing is fetched: the charts are
``data:`` URIs, the style is inline, and the PDF's URL fetcher refuses every
URL that is not a ``data:`` one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from caseloop.figures import CITY, Ratio
from review import labels
from review.report import charts
from review.report.data import Weekly, when


@dataclass(frozen=True)
class Written:
    """Where the report went."""

    html: Path
    pdf: Path | None


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("review.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=_pct,
        ratio=_ratio,
        delta=_delta,
        when=when,
        district=labels.district_zh,
    )
    env.globals.update(labels=labels, CITY=CITY)
    return env


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ratio(ratio: Ratio) -> str:
    if ratio.value is None:
        return "-"
    return f"{ratio.value:.1%}"


def _delta(this: int, last: int) -> str:
    if last == 0:
        return "新增" if this else "±0"
    change = (this - last) / last
    return f"{'+' if change >= 0 else ''}{change:.0%}"


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospace CJK font (CJK characters take two)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _width(text))


SUPERVISION_COLUMNS = (
    ("#", 6), ("案件 case", 34), ("区 district", 12), ("类别", 14), ("紧急", 11),
    ("状态", 9), ("时限", 6), ("应完成 due (CST)", 18), ("级别 level", 10),
)  # fmt: skip


def supervision_lines(weekly: Weekly) -> list[tuple[str, str]]:
    """The supervision list as (level, fixed-width line): thousands of lines lay out in
    the PDF in seconds where as many table rows take minutes."""
    lines = [("head", "".join(_pad(name, w) for name, w in SUPERVISION_COLUMNS))]
    for i, o in enumerate(weekly.overdue, 1):
        cells = (
            str(i), o.case_id, labels.district_short(o.district) if o.district else "分拨",
            labels.zh(labels.CATEGORY, o.category), o.urgency,
            labels.zh(labels.STATUS, o.status), labels.zh(labels.CLOCK, o.clock),
            when(o.due_us), labels.zh(labels.LEVEL, o.level),
        )  # fmt: skip
        line = "".join(_pad(c, w) for c, (_, w) in zip(cells, SUPERVISION_COLUMNS, strict=True))
        lines.append((o.level, line.rstrip()))
    return lines


def html_of(weekly: Weekly) -> str:
    """The report as one self-contained HTML page."""
    floor = weekly.satisfaction_floor
    category_labels = {k: v[0] for k, v in labels.CATEGORY.items()}
    satisfaction = [
        (labels.district_short(scope), weekly.figures[scope].satisfaction_rate.value)
        for scope in weekly.scopes
    ]
    context: dict[str, Any] = {
        "r": weekly,
        "trend_chart": charts.trend_chart(weekly.trend),
        "category_chart": charts.category_chart(weekly.categories, category_labels),
        "district_chart": charts.district_chart(satisfaction, floor),
        "title": f"每周议 · {weekly.week.label}",
        "scope_name": labels.district_zh(weekly.district or CITY),
        "supervision": supervision_lines(weekly),
    }
    return _environment().get_template("weekly.html.j2").render(context)


def _no_network(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: ``data:`` URIs only, nothing from a file or the network."""
    if not url.startswith("data:"):
        raise ValueError(f"the report fetches nothing: {url[:60]}")
    from weasyprint.urls import default_url_fetcher

    fetched: dict[str, Any] = default_url_fetcher(url, timeout, ssl_context)
    return fetched


def write(weekly: Weekly, out: Path, *, pdf: bool = True) -> Written:
    """Write ``weekly-<week>[-<district>].html`` and ``.pdf`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{weekly.week.label}" + (f"-{weekly.district}" if weekly.district else "")
    page = html_of(weekly)
    html_path = out / f"{stem}.html"
    html_path.write_text(page, encoding="utf-8")
    if not pdf:
        return Written(html_path, None)
    from weasyprint import HTML

    pdf_path = out / f"{stem}.pdf"
    HTML(string=page, url_fetcher=_no_network).write_pdf(pdf_path)
    return Written(html_path, pdf_path)
