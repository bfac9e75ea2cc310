"""Rendering a learning briefing: a standalone HTML page and its PDF, in the board's branding.

Two layouts print the same :class:`~audit_core.domain.briefing.BriefingContent`:
``briefing`` (the full learning briefing, one or two A4 pages) and ``seven-minute``
(the one-page seven-minute briefing). Each is a Jinja2 template in
``templates/briefing/`` with the print stylesheet included inline; the board's logo
(an SVG file of the configuration folder) and the chart of the agreed grades
(pygal) are drawn inline as ``<svg>``, so the page needs no other file and the PDF
keeps both as vector. The page holds no script, and WeasyPrint fetches nothing from
outside while it makes the PDF.

The PDF carries no creation or modification date, so the same content in the same
branding gives the same bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import jinja2
import pydyf
import pygal
import weasyprint
from markupsafe import Markup, escape
from pygal.style import Style

from audit_core.adapters.templates import TEMPLATES
from audit_core.domain.briefing import LAYOUTS, ActionProgress, BriefingContent, RoundPart
from audit_core.domain.carry_over import status_counts
from audit_core.domain.errors import AuditRoundError, ConfigError, Problem
from audit_core.domain.policy import BoardConfig
from audit_core.services.ports import RenderedBriefing

TEMPLATE_DIR = TEMPLATES / "briefing"
TEMPLATE_OF = {"briefing": "briefing.html.j2", "seven-minute": "seven_minute.html.j2"}
SVG = "{http://www.w3.org/2000/svg}"
FONTS = "Liberation Sans, Arial, Helvetica, sans-serif"
BAR = {"briefing": 24, "seven-minute": 16}  # the chart's height a round and grade (of 300 wide)


class WeasyPrintRenderer:
    """The :class:`~audit_core.services.ports.BriefingRenderer` of the use cases."""

    def __init__(
        self, config: BoardConfig, config_dir: Path, *, template_dir: Path = TEMPLATE_DIR
    ) -> None:
        self.config = config
        self.config_dir = Path(config_dir)  # where the logo named by the branding is
        self.template_dir = template_dir

    def render(self, content: BriefingContent, *, layout: str = "briefing") -> RenderedBriefing:
        """The briefing in ``layout`` as a standalone HTML page and as a PDF."""
        html = self.html(content, layout=layout)
        return RenderedBriefing(layout=layout, html=html, pdf=pdf_of(html, self.config_dir))

    def html(self, content: BriefingContent, *, layout: str = "briefing") -> str:
        """The briefing in ``layout`` as one HTML page, styles and drawings inline."""
        if layout not in LAYOUTS:
            known = ", ".join(LAYOUTS)
            raise AuditRoundError(f"There is no briefing layout '{layout}' (known: {known}).")
        branding = self.config.board.branding
        context = {
            "content": content,
            "brand": branding.colour,
            "accent": branding.accent,
            "logo": self.logo(),
            "chart": grade_chart(content.rounds, branding.colour, bar=BAR[layout]),
            "contact": self.config.board.business_unit,
            "edition": edition(content),
        }
        return environment(self.template_dir).get_template(TEMPLATE_OF[layout]).render(context)

    def logo(self) -> Markup | None:
        """The board's logo as inline SVG (None when the branding names none)."""
        name = self.config.board.branding.logo
        if name is None:
            return None
        path = self.config_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "is missing" if isinstance(exc, FileNotFoundError) else "cannot be read"
            raise self._logo_problem(f"the logo file {path} {reason}") from None
        return Markup(checked_svg(text, lambda why: self._logo_problem(f"{path} {why}")))

    def _logo_problem(self, reason: str) -> ConfigError:
        board_file = str(self.config_dir / "board.yaml")
        return ConfigError([Problem(board_file, "board.branding.logo", reason)])


def edition(content: BriefingContent) -> str:
    """What the footer says of this briefing beside the board's name: title, area, period."""
    return " · ".join((content.title, content.area_name, content.period))


def checked_svg(text: str, problem: Callable[[str], Exception]) -> str:
    """``text`` without its XML prolog, once it is known to be one SVG drawing holding no
    script, no event handler and nothing fetched from elsewhere (``problem(why)`` is raised
    otherwise)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise problem("declares a document type; an SVG logo needs none")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise problem(f"is not well-formed SVG ({exc})") from None
    if root.tag != f"{SVG}svg":
        raise problem("is not an SVG drawing (its root element is not <svg>)")
    for element in root.iter():
        tag = str(element.tag).removeprefix(SVG)
        if tag in ("script", "foreignObject") or any(a.startswith("on") for a in element.attrib):
            raise problem("holds a script; a briefing carries none")
        if any(a.endswith("href") and not v.startswith("#") for a, v in element.attrib.items()):
            raise problem("refers to another file; draw everything inside the SVG")
    if "@import" in text or re.search(r"url\(\s*['\"]?(?!#)", text):
        raise problem("refers to another file; draw everything inside the SVG")
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", text).strip()


def pdf_of(html: str, base: Path) -> bytes:
    """The PDF of ``html``: tagged, with no date in its metadata, nothing fetched."""
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    document = weasyprint.HTML(string=html, base_url=str(base), url_fetcher=fetcher)
    return document.write_pdf(pdf_tags=True, finisher=steady_header_ids) or b""


def steady_header_ids(_document: object, pdf: pydyf.PDF) -> None:
    """WeasyPrint names each table header of the tagged PDF (and the cells' references to
    it) by where it sat in memory; numbered in order instead, the same page gives the same
    bytes (the earlier actions' table of a briefing, the tables of the year's report)."""
    numbers: dict[str, pydyf.String] = {}

    def steady(value: pydyf.String) -> pydyf.String:
        return numbers.setdefault(str(value.string), pydyf.String(f"th{len(numbers) + 1}"))

    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Dictionary):
            continue
        if isinstance(obj.get("ID"), pydyf.String):
            obj["ID"] = steady(obj["ID"])
        cell = obj.get("A")
        if isinstance(cell, pydyf.Dictionary) and isinstance(cell.get("Headers"), pydyf.Array):
            cell["Headers"] = pydyf.Array(steady(h) for h in cell["Headers"])


# --- the templates' environment ------------------------------------------------------------


@functools.cache
def environment(template_dir: Path = TEMPLATE_DIR, *more: Path) -> jinja2.Environment:
    """Autoescape for ``.html.j2`` (the stylesheet it includes is not HTML), StrictUndefined.
    Templates are looked for in ``template_dir``, then in ``more`` (another document, such
    as the year's report, builds on the briefing's page and parts)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(template_dir), *map(str, more)]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["key_phrase"] = key_phrase
    env.filters["css_string"] = css_string
    env.filters["cases"] = cases_phrase
    env.filters["actions_summary"] = actions_summary
    return env


def key_phrase(text: str, phrase: str) -> Markup:
    """``text`` with ``phrase`` in bold where the text holds it (in any case), else the
    phrase in bold before the text. Both are escaped."""
    phrase = phrase.strip()
    if not phrase:
        return escape(text)
    found = re.search(re.escape(phrase), text, flags=re.IGNORECASE)
    if found is None:
        return Markup("<strong>{}</strong> – {}").format(phrase[:1].upper() + phrase[1:], text)
    start, end = found.span()
    return Markup("{}<strong>{}</strong>{}").format(text[:start], text[start:end], text[end:])


def css_string(value: str) -> Markup:
    """``value`` as a quoted CSS string that is also safe inside ``<style>``."""
    escaped = "".join(c if c.isalnum() or c in " .,:;-_()/'" else f"\\{ord(c):x} " for c in value)
    return Markup(f'"{escaped}"')


def cases_phrase(count: int) -> str:
    return "1 case" if count == 1 else f"{count} cases"


def actions_summary(actions: Sequence[ActionProgress]) -> str:
    """'2 done, 1 in progress, 1 open (1 overdue)': the earlier actions in a line."""
    counted = ", ".join(
        f"{n} {status.replace('_', ' ')}" for status, n in status_counts(actions).items()
    )
    overdue = sum(1 for a in actions if a.rag == "red")
    return counted + (f" ({overdue} overdue)" if overdue else "")


# --- the chart of the agreed grades --------------------------------------------------------


@dataclass(frozen=True)
class ChartKey:
    """One round of the chart as its key prints it: the colour of its bars, its counts."""

    heading: str
    colour: str
    counts: str  # "2 Good, 1 Requires improvement"


@dataclass(frozen=True)
class Chart:
    svg: Markup
    keys: tuple[ChartKey, ...]


def grade_chart(rounds: Sequence[RoundPart], colour: str, *, bar: int = 24) -> Chart | None:
    """A horizontal bar chart of how many cases got each agreed grade, one series per round
    in a shade of the board's colour, ``bar`` units high a round and grade, with its key
    (None when no grade was counted)."""
    if not any(g.count for part in rounds for g in part.grades):
        return None
    labels = list(dict.fromkeys(g.label for part in rounds for g in part.grades))
    counts = [{g.label: g.count for g in part.grades} for part in rounds]
    top = max(max(c.values(), default=0) for c in counts)
    colours = shades(colour, len(rounds))
    chart = pygal.HorizontalBar(
        style=chart_style(colours),
        width=300,
        height=30 + bar * len(labels) * len(rounds),
        explicit_size=True,
        disable_xml_declaration=True,
        js=[],
        show_legend=False,  # the key is printed under the chart, where long headings fit
        truncate_legend=40,
        truncate_label=24,
        print_values=True,
        print_zeroes=False,
        print_values_position="top",
        range=(0, top),
        y_labels=list(range(top + 1)),
        margin=4,
        margin_right=16,  # room for the count printed after the longest bar
        spacing=8,
    )
    chart.uuid = "grades"  # the id pygal's styles are scoped to (a random one by default)
    chart.add_xml_filter(functools.partial(printable_chart, title=_chart_title(rounds)))
    chart.x_labels = list(reversed(labels))  # pygal draws the first label at the bottom
    for part, count in zip(rounds, counts, strict=True):
        chart.add(part.heading, [count.get(label, 0) for label in reversed(labels)])
    keys = tuple(
        ChartKey(part.heading, shade, _counted(part))
        for part, shade in zip(rounds, colours, strict=True)
    )
    return Chart(Markup(chart.render(is_unicode=True)), keys)


def _counted(part: RoundPart) -> str:
    return ", ".join(f"{g.count} {g.label}" for g in part.grades if g.count) or "no grade"


def shades(colour: str, series: int) -> list[str]:
    """One colour a series: the board's colour, then lighter tints of it, in turn."""
    tints = [colour, _tint(colour, 0.5), _tint(colour, 0.75)]
    return [tints[i % len(tints)] for i in range(series)]


def chart_style(colours: Sequence[str]) -> Style:
    """pygal's style for the board's charts: these colours, plain type, no animation."""
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#1b1b1b",
        foreground_strong="#1b1b1b",
        foreground_subtle="#4a4a4a",
        colors=tuple(colours),
        font_family=FONTS,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=13,
        guide_stroke_color="#c8c8c8",
        major_guide_stroke_color="#c8c8c8",
        guide_stroke_dasharray="1,0",
        major_guide_stroke_dasharray="1,0",
        opacity="1",
        opacity_hover="1",
        stroke_opacity="1",
        transition="0ms",
    )


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white (``amount`` 0: the colour, 1: white)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def _chart_title(rounds: Sequence[RoundPart]) -> str:
    return "Cases by the grade agreed on the audit day: " + "; ".join(
        f"{part.heading}: {_counted(part)}" for part in rounds
    )


def printable_chart(root: ElementTree.Element, *, title: str) -> ElementTree.Element:
    """pygal's drawing made fit for a briefing: no script, no comment (it is dated), the
    title a reader's software announces, and a role saying it is a picture."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).removeprefix(SVG) == "script" or child.tag is ElementTree.Comment:
                parent.remove(child)
            elif str(child.tag).removeprefix(SVG) == "title":
                child.text = title
    root.set("role", "img")
    root.set("aria-label", title)
    return root
