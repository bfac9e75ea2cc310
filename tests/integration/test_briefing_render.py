"""The learning briefing as a reader gets it: the PDF read back with poppler, and the page.

Both published briefings (:mod:`support.seed_briefings`) are rendered in both layouts
with the example configuration's branding and logo; the PDFs are read with
``pdftotext``, ``pdfinfo`` and ``pdfimages`` (poppler-utils, which ``make test``
installs: without them these tests fail, they are not skipped).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from support import CONFIG_DIR
from support.seed_briefings import (
    SEVEN_BOXES,
    city_briefing,
    hackney_briefing,
    key_phrases,
    prompts,
    reading_order,
    seven_minute_order,
)

from audit_core.adapters.briefing_render import WeasyPrintRenderer
from audit_core.adapters.settings import Settings
from audit_core.bootstrap import App
from audit_core.domain.briefing import Strength, StrengthGroup
from audit_core.domain.errors import AuditRoundError, ConfigError
from audit_core.domain.policy import BoardConfig, Branding
from audit_core.services.ports import RenderedBriefing

SEEDS = {"city": city_briefing, "hackney": hackney_briefing}
Render = Callable[[str, str], RenderedBriefing]


def poppler(tool: str, *args: str | Path) -> str:
    """The output of a poppler-utils tool; its absence fails the test."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (make browser)", pytrace=False)
    done = subprocess.run([tool, *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("briefings")


@pytest.fixture(scope="module")
def rendered(config: BoardConfig) -> Render:
    """Each seed in each layout, rendered once for the module."""
    renderer = WeasyPrintRenderer(config, CONFIG_DIR)
    done: dict[tuple[str, str], RenderedBriefing] = {}

    def render(seed: str, layout: str) -> RenderedBriefing:
        if (seed, layout) not in done:
            done[seed, layout] = renderer.render(SEEDS[seed](), layout=layout)
        return done[seed, layout]

    return render


def saved(pdf_dir: Path, name: str, pdf: bytes) -> Path:
    path = pdf_dir / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


def text_of(path: Path) -> str:
    """The PDF's text in the order it was written, one space between words, case folded."""
    text = unicodedata.normalize("NFKC", poppler("pdftotext", "-raw", path, "-"))
    text = re.sub(r"-\s*\n\s*", "-", text)  # a line broken after a hyphen
    return " ".join(text.split()).casefold()


def pages(path: Path) -> int:
    found = re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", path), flags=re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def missing_in_order(text: str, expected: Sequence[str]) -> list[str]:
    """What of ``expected`` is not in ``text`` after what came before it."""
    at, missing = 0, []
    for item in expected:
        wanted = " ".join(item.split()).casefold()
        found = text.find(wanted, at)
        if found < 0:
            missing.append(item)
        else:
            at = found + len(wanted)
    return missing


# --- what a reader of the PDF finds ---------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_the_briefing_prints_every_heading_theme_phrase_and_prompt_in_order(
    seed: str, rendered: Render, pdf_dir: Path
) -> None:
    text = text_of(saved(pdf_dir, f"{seed}-briefing", rendered(seed, "briefing").pdf))

    assert missing_in_order(text, reading_order(SEEDS[seed]())) == []


def test_the_city_briefing_reads_like_the_published_one(rendered: Render, pdf_dir: Path) -> None:
    text = text_of(saved(pdf_dir, "city-briefing", rendered("city", "briefing").pdf))

    assert (
        missing_in_order(
            text,
            [
                "City & Hackney Safeguarding Children Partnership",
                "CHSCP Case Audits",
                "City of London · 2017-18",
                "Think Family",
                "Twice a year the partnership audits",
                "Brief summary of cases",
                "Case 1 A mother asked early help",
                "Strengths",
                "Working in Partnership with Parents",
                "which let them:",
                "hold open and honest conversations",
                "Lessons and key messages",
                "Escalation and Challenge",
                "Do you know the CHSCP Escalation Policy",
                "Read: CHSCP Escalation Policy",
            ],
        )
        == []
    )
    assert "well established" not in text  # no lesson of the round recurs


def test_the_hackney_briefing_heads_each_round_and_flags_the_recurring_lesson(
    rendered: Render, pdf_dir: Path
) -> None:
    text = text_of(saved(pdf_dir, "hackney-briefing", rendered("hackney", "briefing").pdf))

    assert (
        missing_in_order(
            text,
            [
                "Hackney · 2014/15",
                "Neglect / Parental Mental Health · Early Help",
                "The year's audits found many examples",  # the introduction
                "Neglect / Parental Mental Health April to September 2014",
                "Strengths",
                "Lessons and key messages",
                "Early Help October 2014 to March 2015",
                "These are the first findings",  # the note before the lessons
                "Ensuring engagement with fathers",
                "A well established finding",
                "Be alert to fathers and other adults",
            ],
        )
        == []
    )
    assert "brief summary of cases" not in text  # the year's briefing has no case summaries
    assert text.count("a well established finding") == 1


@pytest.mark.parametrize(("seed", "most"), [("city", 2), ("hackney", 2)])
def test_the_full_briefing_takes_at_most_two_pages(
    seed: str, most: int, rendered: Render, pdf_dir: Path
) -> None:
    assert pages(saved(pdf_dir, f"{seed}-briefing", rendered(seed, "briefing").pdf)) <= most


@pytest.mark.parametrize("seed", SEEDS)
def test_the_seven_minute_briefing_is_one_page_of_seven_boxes(
    seed: str, rendered: Render, pdf_dir: Path
) -> None:
    path = saved(pdf_dir, f"{seed}-seven", rendered(seed, "seven-minute").pdf)
    text = text_of(path)

    assert pages(path) == 1
    assert missing_in_order(text, seven_minute_order(SEEDS[seed]())) == []
    assert [box for box in SEVEN_BOXES if text.count(box.casefold()) != 1] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_page_names_the_board_the_briefing_and_the_page(
    seed: str, rendered: Render, pdf_dir: Path
) -> None:
    content = SEEDS[seed]()
    path = saved(pdf_dir, f"{seed}-briefing", rendered(seed, "briefing").pdf)
    count = pages(path)

    for page in range(1, count + 1):
        text = " ".join(poppler("pdftotext", "-f", str(page), "-l", str(page), path, "-").split())
        assert content.board_name in text
        assert f"{content.title} · {content.area_name} · {content.period}" in text
        assert f"Page {page} of {count}" in text


# --- the chart -----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["briefing", "seven-minute"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_chart_is_drawn_as_vector(
    seed: str, layout: str, rendered: Render, pdf_dir: Path
) -> None:
    page = rendered(seed, layout)
    path = saved(pdf_dir, f"{seed}-{layout}", page.pdf)

    assert page.html.count('<svg xmlns="http://www.w3.org/2000/svg" id="chart-grades"') == 1
    listed = poppler("pdfimages", "-list", path).splitlines()
    assert listed[2:] == []  # the heading lines only: no raster image on any page


def test_the_chart_says_what_it_shows(rendered: Render) -> None:
    page = rendered("hackney", "briefing").html

    assert (
        'aria-label="Cases by the grade agreed on the audit day: Neglect / Parental Mental '
        "Health: 2 Good, 2 Requires improvement, 1 Inadequate; Early Help: 1 Outstanding, "
        '3 Good, 1 Requires improvement"' in page
    )
    assert "<strong>Early Help:</strong> 1 Outstanding, 3 Good, 1 Requires improvement." in page


def test_a_briefing_without_grades_has_no_chart(config: BoardConfig) -> None:
    content = city_briefing()
    ungraded = tuple(replace(g, count=0) for g in content.rounds[0].grades)
    content = replace(content, rounds=(replace(content.rounds[0], grades=ungraded),))

    page = WeasyPrintRenderer(config, CONFIG_DIR).html(content)

    assert "chart-grades" not in page
    assert "Grades agreed" not in page


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["briefing", "seven-minute"])
def test_the_page_stands_alone_with_no_script(layout: str, rendered: Render) -> None:
    page = rendered("city", layout).html

    assert "<script" not in page.lower()
    assert re.search(r"\son\w+=", page) is None  # no event handler either
    assert "<link" not in page and "<img" not in page and "src=" not in page
    assert "<style>" in page and "@page" in page
    assert page.count("<svg") == 2  # the logo and the chart, inline


@pytest.mark.parametrize("layout", ["briefing", "seven-minute"])
def test_the_pdf_renderer_understands_every_rule_and_phones_get_their_own(
    layout: str, config: BoardConfig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        page = WeasyPrintRenderer(config, CONFIG_DIR).render(city_briefing(), layout=layout).html

    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    narrow = page.split('<style media="screen and (max-width: 40rem)">', 1)[1].split("</style>")[0]
    assert "grid-template-columns: 1fr" in narrow or ".lessons { columns: 1; }" in narrow
    assert "@media screen" not in page  # a media query only in the attribute


def test_the_key_phrases_are_bold(rendered: Render) -> None:
    for seed in SEEDS:
        page = rendered(seed, "briefing").html
        for phrase in key_phrases(SEEDS[seed]()):
            bold = re.compile(f"<strong>{re.escape(html.escape(phrase))}</strong>", re.IGNORECASE)
            assert bold.search(page), f"{phrase!r} is not in bold"


def test_a_key_phrase_the_text_does_not_hold_comes_first(rendered: Render) -> None:
    page = rendered("hackney", "briefing").html

    assert "<li><strong>Over and above</strong> – Agencies went beyond their usual service" in page
    # in the text, the phrase is bold where it stands, in the text's own capitals
    assert "Referrals were thorough and used the <strong>Hackney Child Wellbeing" in page


def test_prompts_are_panelled_and_links_kept(rendered: Render) -> None:
    page = rendered("city", "briefing").html

    assert '<ul class="prompts">' in page
    assert "<li>Do you use the City of London Threshold of Need tool in your day-to-day" in page
    assert (
        '<a href="https://chscp.example.org/policies/escalation">CHSCP Escalation Policy</a>'
        in page
    )


def test_the_pdf_keeps_the_links(rendered: Render, pdf_dir: Path) -> None:
    urls = poppler(
        "pdfinfo", "-url", saved(pdf_dir, "city-briefing", rendered("city", "briefing").pdf)
    )

    for item in city_briefing().rounds[0].lessons:
        for link in item.links:
            assert link.url in urls


def test_what_is_typed_into_a_briefing_is_printed_as_text(config: BoardConfig) -> None:
    typed = "<script>alert('x')</script> & <b>bold</b>"
    content = city_briefing()
    group = StrengthGroup(
        "voice-of-the-child", "Voice & <i>choice</i>", typed, (Strength(typed, typed),)
    )
    part = replace(content.rounds[0], strengths=(group,), heading=typed)
    content = replace(content, rounds=(part,), board_name=f'Board "</style>{typed}')
    renderer = WeasyPrintRenderer(config, CONFIG_DIR)

    for layout in ("briefing", "seven-minute"):
        page = renderer.html(content, layout=layout)
        assert "<script" not in page and "<b>bold" not in page and "<i>choice" not in page
        assert (
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
        )
        # the board's name, printed in the page's margins, cannot close the stylesheet
        assert page.index("</style>") > page.index("@bottom-right")
    pdf = renderer.render(content).pdf
    assert pdf.startswith(b"%PDF")


# --- the branding --------------------------------------------------------------------------


def branded(config: BoardConfig, branding: Branding) -> BoardConfig:
    return config.model_copy(
        update={"board": config.board.model_copy(update={"branding": branding})}
    )


def test_the_board_colours_style_the_page_and_the_chart(config: BoardConfig) -> None:
    colours = Branding(colour="#8a1538", accent="#f7e9ee", logo="logo.svg")
    page = WeasyPrintRenderer(branded(config, colours), CONFIG_DIR).html(city_briefing())

    assert "--brand: #8a1538;" in page and "--accent: #f7e9ee;" in page
    assert "fill:#8a1538" in page.replace(" ", "")  # the chart's bars
    assert "#1d4f6e" not in page.split("<svg", 2)[2]  # nothing of the default in the chart


def test_the_example_colour_and_logo_are_in_the_page(rendered: Render) -> None:
    page = rendered("city", "briefing").html

    assert "--brand: #1d4f6e;" in page
    logo = (CONFIG_DIR / "logo.svg").read_text(encoding="utf-8").strip()
    assert f'<div class="logo">{logo}</div>' in page


def test_a_missing_logo_is_named(config: BoardConfig, tmp_path: Path) -> None:
    renderer = WeasyPrintRenderer(config, tmp_path)  # a folder without the logo

    with pytest.raises(ConfigError) as raised:
        renderer.render(city_briefing())

    message = str(raised.value)
    assert str(tmp_path / "logo.svg") in message and "is missing" in message
    assert "board.branding.logo" in message


@pytest.mark.parametrize(
    ("drawing", "reason"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', "holds a script"),
        ('<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "holds a script"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://x.org/a.png"/></svg>',
            "refers to another file",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://x.org/p)"/></svg>',
            "refers to another file",
        ),
        ("<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "is not well-formed SVG"),
        ("<html><body/></html>", "is not an SVG drawing"),
    ],
)
def test_a_logo_that_is_not_a_plain_drawing_is_refused(
    config: BoardConfig, tmp_path: Path, drawing: str, reason: str
) -> None:
    (tmp_path / "logo.svg").write_text(drawing, encoding="utf-8")

    with pytest.raises(ConfigError, match=reason):
        WeasyPrintRenderer(config, tmp_path).html(city_briefing())


def test_a_board_without_a_logo_prints_its_name(config: BoardConfig) -> None:
    no_logo = branded(config, Branding())
    page = WeasyPrintRenderer(no_logo, CONFIG_DIR).html(city_briefing())

    assert 'class="logo"' not in page
    assert "City &amp; Hackney Safeguarding Children Partnership" in page


# --- the renderer ---------------------------------------------------------------------------


def test_the_same_content_gives_the_same_pdf(config: BoardConfig, pdf_dir: Path) -> None:
    renderer = WeasyPrintRenderer(config, CONFIG_DIR)
    first, second = (renderer.render(hackney_briefing(), layout="seven-minute") for _ in "ab")

    assert first.pdf == second.pdf and first.html == second.html
    info = poppler("pdfinfo", saved(pdf_dir, "again", first.pdf))
    assert "CreationDate" not in info and "ModDate" not in info
    assert "CHSCP Case Audits: Hackney, 2014/15 (seven-minute briefing)" in info


def test_an_unknown_layout_is_refused(config: BoardConfig) -> None:
    with pytest.raises(AuditRoundError, match="known: briefing, seven-minute"):
        WeasyPrintRenderer(config, CONFIG_DIR).render(city_briefing(), layout="poster")


def test_the_composition_root_gives_the_renderer(config: BoardConfig) -> None:
    app = App(Settings.model_validate({"config": str(CONFIG_DIR)}), config=config)

    got = app.briefing_renderer().render(city_briefing(), layout="seven-minute")

    assert got.layout == "seven-minute" and got.pdf.startswith(b"%PDF-")
    assert "Seven-minute briefing" in got.html


def test_the_seeds_hold_what_the_published_briefings_hold() -> None:
    city, hackney = city_briefing(), hackney_briefing()

    assert [len(part.cases) for part in city.rounds] == [3]
    assert city.foci == ("Think Family",) and len(city.themes) == 10
    assert hackney.foci == ("Neglect / Parental Mental Health", "Early Help")
    assert [p.strengths_by_theme for p in hackney.rounds] == [False, False]
    assert [item.heading for p in hackney.rounds for item in p.lessons if item.recurring] == [
        "Ensuring engagement with fathers"
    ]
    assert len(prompts(city)) == 11
    assert [sum(g.count for g in p.grades) for p in (*city.rounds, *hackney.rounds)] == [3, 5, 5]
