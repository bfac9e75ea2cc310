"""Rendering the board year's report: a standalone HTML page and its PDF, with vector charts.

The report (:class:`~audit_core.domain.year_report.YearReport`) prints on the learning
briefing's page (``templates/briefing/_page.html.j2``: its print stylesheet, footer and
masthead, in the board's branding) from ``templates/report/year.html.j2``. Its charts are
pygal drawings made inline ``<svg>`` the way the briefing's chart is (no script, no date,
a fixed id, a title that says what it shows), and WeasyPrint makes the PDF fetching
nothing, so the same figures give the same bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygal
from markupsafe import Markup

from audit_core.adapters.briefing_render import (
    TEMPLATE_DIR as BRIEFING_TEMPLATES,
)
from audit_core.adapters.briefing_render import (
    ChartKey,
    WeasyPrintRenderer,
    chart_style,
    environment,
    pdf_of,
    printable_chart,
    shades,
)
from audit_core.adapters.templates import TEMPLATES
from audit_core.domain.policy import BoardConfig
from audit_core.domain.year_report import ThemeTrend, YearReport

TEMPLATE_DIR = TEMPLATES / "report"
TEMPLATE = "year.html.j2"
MOST_THEMES = 10  # themes a chart draws (the most frequent); the tables list every one
DONE, OPEN, OVERDUE, LATE, NOT_IN = "#2e7d32", "#d08700", "#b3261e", "#d08700", "#8a8a8a"


@dataclass(frozen=True)
class RenderedReport:
    html: str
    pdf: bytes


@dataclass(frozen=True)
class Heading:
    """What the briefing's page and masthead print of a document: board, title, where, when."""

    board_name: str
    title: str
    area_name: str
    period: str
    foci: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    svg: Markup
    keys: tuple[ChartKey, ...]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]
    colour: str


class YearReportRenderer:
    """The year's report as HTML and PDF, in the board's branding (its logo from the
    configuration folder, as the briefing has it)."""

    def __init__(self, config: BoardConfig, config_dir: Path) -> None:
        self.config = config
        self.config_dir = Path(config_dir)

    def render(self, report: YearReport) -> RenderedReport:
        html = self.html(report)
        return RenderedReport(html, pdf_of(html, self.config_dir))

    def html(self, report: YearReport) -> str:
        board = self.config.board
        heading = Heading(
            board_name=board.name,
            title=f"{board.short_name} {board.briefing.title}",
            area_name=report.area_name or "All areas",
            period=report.year,
            foci=tuple(dict.fromkeys(r.focus_name for r in report.rounds)),
        )
        context = {
            "content": heading,
            "report": report,
            "brand": board.branding.colour,
            "accent": board.branding.accent,
            "logo": WeasyPrintRenderer(self.config, self.config_dir).logo(),
            "edition": " · ".join((heading.title, "Year report", heading.area_name, report.year)),
            "charts": charts(report, board.branding.colour),
            "contact": board.business_unit,
        }
        env = environment(TEMPLATE_DIR, BRIEFING_TEMPLATES)
        return env.get_template(TEMPLATE).render(context)


# --- the charts --------------------------------------------------------------------------------


def charts(report: YearReport, colour: str) -> dict[str, Chart | None]:
    """Every chart of the report, by name (None where there is nothing to draw)."""
    rounds = report.round_ids
    tints = shades(colour, len(rounds))
    top = max((score for _, _, score in report.grades), default=4)
    return {
        "sections": bar_chart(
            "sections",
            "Mean score of each section, round by round",
            [s.title for s in report.sections],
            [
                Series(r, [s.means[n] for s in report.sections], tints[n])
                for n, r in enumerate(rounds)
            ],
            top=top,
            values=False,  # the table under the chart gives each mean
        ),
        "strengths": _themes_chart("strengths", "Strengths", report.strengths, rounds, tints),
        "lessons": _themes_chart("lessons", "Lessons", report.lessons, rounds, tints),
        "actions": bar_chart(
            "actions",
            "Actions by the owner's agency: done, open, overdue",
            [a.agency_name for a in report.actions],
            [
                Series("Done", [a.done for a in report.actions], DONE),
                Series("Open, not overdue", [a.open - a.overdue for a in report.actions], OPEN),
                Series("Overdue", [a.overdue for a in report.actions], OVERDUE),
            ],
            stacked=True,
        ),
        "returns": bar_chart(
            "returns",
            "Returns by round: on time, late, not submitted",
            list(rounds),
            [
                Series("On time", [c.on_time for c in report.chase], colour),
                Series("Late", [c.late for c in report.chase], LATE),
                Series("Not submitted", [c.not_in for c in report.chase], NOT_IN),
            ],
            stacked=True,
        ),
    }


def _themes_chart(
    name: str,
    noun: str,
    trends: Sequence[ThemeTrend],
    rounds: Sequence[str],
    tints: Sequence[str],
) -> Chart | None:
    listed = list(trends)[:MOST_THEMES]  # the most frequent; the table lists them all
    return bar_chart(
        name,
        f"{noun} by theme, round by round",
        [t.name for t in listed],
        [Series(r, [t.counts[n] for t in listed], tints[n]) for n, r in enumerate(rounds)],
    )


def bar_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    top: int | None = None,
    values: bool = True,
    bar: int = 13,
) -> Chart | None:
    """A horizontal bar chart, one bar a label and series (or one stacked bar a label, its
    parts' values printed inside in white), 720 units wide; None when there is nothing to
    draw."""
    if not labels or not any(v for s in series for v in s.values):
        return None
    if top is None:
        sums = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
        peak = max(sums) if stacked else max(v or 0 for s in series for v in s.values)
        top = max(1, int(peak))
    rows = len(labels) * (1 if stacked else len(series))
    style = chart_style([s.colour for s in series])
    if stacked:
        style.value_colors = tuple("#ffffff" for _ in series)
    kind = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
    chart = kind(
        style=style,
        width=720,
        height=int(44 + bar * (1.6 if stacked else 1) * rows),
        explicit_size=True,
        disable_xml_declaration=True,
        js=[],
        show_legend=False,  # the key is printed under the chart
        truncate_label=-1,
        print_values=values,
        print_zeroes=False,
        print_values_position="center" if stacked else "top",
        value_formatter=_shown,
        range=(0, top),
        y_labels=list(range(top + 1)) if top <= 12 else None,
        margin=4,
        margin_right=24,  # room for the value printed after the longest bar
        spacing=6,
    )
    chart.uuid = name  # the id pygal's styles are scoped to (a random one by default)
    chart.add_xml_filter(functools.partial(printable_chart, title=_said(title, labels, series)))
    chart.x_labels = list(reversed(labels))  # pygal draws the first label at the bottom
    for s in series:
        chart.add(s.name, list(reversed(list(s.values))))
    keys = tuple(ChartKey(s.name, s.colour, "") for s in series)
    return Chart(Markup(chart.render(is_unicode=True)), keys)


def _shown(value: float | None) -> str:
    """A value as the chart prints it: 3, 2.5, 3.25 (nothing for none)."""
    return "" if value is None else f"{value:g}"


def _said(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """The chart's title for a reader's software: what it shows, and each value in words."""
    parts = []
    for s in series:
        given = [f"{label} {v:g}" for label, v in zip(labels, s.values, strict=True) if v]
        parts.append(f"{s.name}: {', '.join(given) or 'none'}")
    return f"{title}. " + "; ".join(parts)
