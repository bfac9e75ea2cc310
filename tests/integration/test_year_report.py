"""The board year's report, checked against the year the test built: Hackney's two rounds of
2026-27 and the City's case in the first (:func:`support.year_rounds.the_year`), their
returns on time, late and missing, the escalations the chase sweep took, the audit days,
and the actions on the first round's lessons. The PDF is read back with poppler.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support import CONFIG_DIR
from support.trail import events
from support.year_rounds import at, day, the_year

from audit_core.adapters.report_render import YearReportRenderer
from audit_core.bootstrap import App
from audit_core.domain.errors import NotFound
from audit_core.domain.policy import BoardConfig
from audit_core.domain.year_report import AgencyActions, ChaseRow, RoundRow, YearReport
from audit_core.services.collation import collate
from audit_core.services.ports import BriefingRenderer
from audit_core.services.unit_of_work import UnitOfWork
from audit_core.services.year_report import year_report

pytestmark = pytest.mark.database
REPORTED_ON = day(2026, 11, 20)
HEADINGS = (
    "Year report",
    "CHSCP Case Audits",
    "Hackney · 2026-27",
    "Rounds",
    "Grades over time",
    "Mean score by section",
    "Grades by agency",
    "Themes over time",
    "Lessons by theme",
    "Strengths by theme",
    "Well established findings",
    "Actions by agency",
    "Returns and chasing",
    "Returns by round",
)


def poppler(tool: str, *args: str | Path) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install poppler-utils", pytrace=False)
    return subprocess.run(
        [tool, *map(str, args)], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def year(uow: UnitOfWork, renderer: BriefingRenderer) -> None:
    the_year(uow, renderer)


def report_of(uow: UnitOfWork, area: str | None = "hackney") -> YearReport:
    return year_report(at(uow, REPORTED_ON), "2026-27", area)


def test_the_year_counts_its_rounds_cases_and_returns(year: None, uow: UnitOfWork) -> None:
    report = report_of(uow)

    assert (report.first_day, report.last_day) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert report.rounds == (
        RoundRow(
            "2026-H1", "Think Family", dt.date(2026, 4, 13), "briefing", ("hackney",), 2, 3, 2
        ),
        RoundRow("2026-H2", "Early help", dt.date(2026, 10, 5), "briefing", ("hackney",), 1, 1, 1),
    )
    everywhere = report_of(uow, None)
    assert [(r.areas, r.cases, r.audits, r.submitted) for r in everywhere.rounds] == [
        (("city", "hackney"), 3, 4, 3),
        (("hackney",), 1, 1, 1),
    ]


def test_returns_are_counted_on_time_late_missing_and_escalated(
    year: None, uow: UnitOfWork
) -> None:
    # 2026-H1 was due on 11 May: Hackney CSC's return came on 20 April, the police's on
    # 15 May after the sweep of 13 May escalated it and the health visitors' missing one
    assert report_of(uow).chase == (
        ChaseRow("2026-H1", audits=3, on_time=1, late=1, not_in=1, escalated=2),
        ChaseRow("2026-H2", audits=1, on_time=1, late=0, not_in=0, escalated=0),
    )
    assert report_of(uow, None).chase[0] == ChaseRow("2026-H1", 4, 2, 1, 1, 2)


def test_grades_over_time_are_the_means_collation_gives(year: None, uow: UnitOfWork) -> None:
    report = report_of(uow)
    everywhere = report_of(uow, None)

    assert {s.means for s in report.sections} == {(2.5, 4.0)}  # good 3 and RI 2; outstanding
    assert {s.means for s in everywhere.sections} == {(3.0, 4.0)}  # with the City's 4
    collated = collate(at(uow, REPORTED_ON), "2026-H1").figures
    assert [s.means[0] for s in everywhere.sections] == [s.mean for s in collated.by_section]
    agencies = {a.agency_id: a for a in report.agencies}
    assert list(agencies) == ["hackney-csc", "met-police"]  # by name
    assert {s.means for s in agencies["hackney-csc"].sections} == {(3.0, 4.0)}
    assert {s.means for s in agencies["met-police"].sections} == {(2.0, None)}
    assert agencies["met-police"].returns == (1, 0)


def test_themes_are_counted_round_by_round_with_the_well_established_ones(
    year: None, uow: UnitOfWork
) -> None:
    report = report_of(uow)

    assert [(t.theme_id, t.counts) for t in report.lessons] == [
        ("engaging-fathers", (1, 1)),
        ("voice-of-the-child", (1, 0)),
    ]
    assert [(t.theme_id, t.counts) for t in report.strengths] == [
        ("information-sharing", (1, 0)),
        ("multi-agency-working", (0, 1)),
    ]
    assert [(w.round_id, w.theme_id) for w in report.well_established] == [
        ("2026-H2", "engaging-fathers")
    ]
    assert "think-family" in [t.theme_id for t in report_of(uow, None).lessons]


def test_the_actions_of_the_years_rounds_are_counted_by_the_owners_agency(
    year: None, uow: UnitOfWork
) -> None:
    assert report_of(uow).actions == (
        AgencyActions("hackney-csc", "Hackney Children and Families Service", 1, 1, 0, 0, 0),
        AgencyActions("health-visiting", "Health Visiting and School Nursing", 1, 1, 0, 0, 0),
        AgencyActions("met-police", "Metropolitan Police (Central East BCU)", 1, 0, 1, 1, 0),
    )
    city = report_of(uow, None).actions[0]
    assert (city.agency_id, city.open, city.overdue) == ("city-cft", 1, 0)  # due 30 November


def test_the_report_is_recorded_with_its_totals_only(
    year: None, uow: UnitOfWork, session: Session
) -> None:
    report = report_of(uow)
    session.commit()

    [made] = [e for e in events(session, "report")]
    assert (made.action, made.object_id) == ("year_report_made", "2026-27:hackney")
    assert made.details == report.totals
    assert report.totals["returns_submitted"] == 3 and report.totals["escalated"] == 2


def test_a_year_with_no_round_or_an_unknown_area_is_named(year: None, uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match=r"No round was launched in Hackney in 2025-26 \(1 April"):
        year_report(at(uow, REPORTED_ON), "2025-26", "hackney")
    with pytest.raises(NotFound, match="There is no area 'hackny'"):
        year_report(at(uow, REPORTED_ON), "2026-27", "hackny")


def test_the_report_is_written_as_html_and_a_pdf_that_holds_its_headings(
    year: None,
    make_app: Callable[..., App],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    app = make_app(at=REPORTED_ON)

    report, written = app.year_report("2026/27", "hackney", tmp_path / "out")

    assert [p.name for p in written] == [
        "year-report-2026-27-hackney.html",
        "year-report-2026-27-hackney.pdf",
    ]
    html, pdf = written[0].read_text(), written[1]
    assert "<script" not in html and html.count("<svg") >= 5
    text = " ".join(poppler("pdftotext", "-raw", pdf, "-").split())
    at_ = 0
    for heading in HEADINGS:
        found = text.find(heading, at_)
        assert found >= 0, heading
        at_ = found + len(heading)
    assert "Engagement with fathers and significant others, a lesson again in 2026-H2" in text
    assert poppler("pdfimages", "-list", pdf).splitlines()[2:] == []  # the charts are vector
    assert re.search(r"Page 1 of \d", text)
    assert report.area_id == "hackney"


def test_the_same_figures_give_the_same_pdf(
    year: None, uow: UnitOfWork, config: BoardConfig
) -> None:
    report = report_of(uow)
    renderer = YearReportRenderer(config, CONFIG_DIR)

    assert renderer.render(report).pdf == renderer.render(report).pdf
