"""The board year's figures from plain values (no database): rounds, grades over time as
collation means them, themes over time, actions by agency, returns on time and late."""

from __future__ import annotations

import datetime as dt

from test_collation_rules import DUE, HK1, HK2, SCALE, THEMES, TOOL, audit, form

from audit_core.domain.returns import Entry
from audit_core.domain.year_report import (
    ActionInput,
    AgencyActions,
    ChaseRow,
    ReturnTiming,
    RoundInput,
    Year,
    YearReport,
    actions_by_agency,
    chase_row,
    out_stem,
    year_figures,
)

YEAR = Year("2026-27", dt.date(2026, 4, 1), dt.date(2027, 3, 31), dt.date(2026, 11, 20))
FATHERS = Entry("information-sharing", "Shared within a day.")
VOICE = Entry("voice-of-the-child", "The child's words were not recorded.")


def round_input(
    round_id: str, *audits: object, timings: tuple[ReturnTiming, ...] = ()
) -> RoundInput:
    return RoundInput(
        round_id=round_id,
        focus_name="Think Family",
        launched_on=dt.date(2026, 4, 13),
        status="briefing",
        areas=("hackney",),
        cases=(HK1, HK2),
        audits=tuple(audits),  # type: ignore[arg-type]
        timings=timings,
        recurring=("voice-of-the-child",) if round_id == "2026-H2" else (),
    )


def figures(*rounds: RoundInput, actions: tuple[ActionInput, ...] = ()) -> YearReport:
    return year_figures(YEAR, TOOL, SCALE, THEMES, rounds, actions)


def test_each_rounds_section_means_are_collations() -> None:
    report = figures(
        round_input(
            "2026-H1",
            audit(HK1, "csc", form("good", "outstanding")),
            audit(HK1, "police", form("inadequate", None)),
        ),
        round_input("2026-H2", audit(HK2, "csc", form("outstanding", "good"))),
    )

    assert [(s.section_id, s.means, s.graded) for s in report.sections] == [
        ("recognition", (2.0, 4.0), (2, 1)),
        ("voice", (4.0, 3.0), (1, 1)),
    ]
    agencies = {a.agency_id: a for a in report.agencies}
    assert list(agencies) == ["csc", "police"]  # by name
    assert agencies["police"].returns == (1, 0)
    assert [s.means for s in agencies["police"].sections] == [(1.0, None), (None, None)]
    assert report.rounds[0].audits == 2 and report.rounds[0].submitted == 2


def test_a_draft_is_not_counted_as_in() -> None:
    report = figures(
        round_input("2026-H1", audit(HK1, "csc", form("good", "good"), status="draft"))
    )

    assert report.rounds[0].submitted == 0
    assert [s.means for s in report.sections] == [(None,), (None,)]


def test_themes_are_counted_round_by_round_the_most_frequent_first() -> None:
    report = figures(
        round_input("2026-H1", audit(HK1, "csc", form("good", "good", lessons=(FATHERS,)))),
        round_input(
            "2026-H2",
            audit(HK1, "csc", form("good", "good", lessons=(VOICE,), strengths=(FATHERS,))),
            audit(HK2, "csc", form("good", "good", lessons=(VOICE,))),
        ),
    )

    assert [(t.theme_id, t.counts, t.total) for t in report.lessons] == [
        ("voice-of-the-child", (0, 2), 2),
        ("information-sharing", (1, 0), 1),
    ]
    assert [(t.theme_id, t.counts) for t in report.strengths] == [("information-sharing", (0, 1))]
    assert [(w.round_id, w.name) for w in report.well_established] == [
        ("2026-H2", "Voice of the child")
    ]


def test_returns_are_on_time_by_their_due_date_late_after_it_or_not_in() -> None:
    row = chase_row(
        "2026-H1",
        [
            ReturnTiming(DUE, DUE),
            ReturnTiming(DUE, DUE - dt.timedelta(days=3)),
            ReturnTiming(DUE, DUE + dt.timedelta(days=1), escalated=True),
            ReturnTiming(DUE, None, escalated=True),
        ],
    )

    assert row == ChaseRow("2026-H1", audits=4, on_time=2, late=1, not_in=1, escalated=2)


def test_actions_are_counted_by_agency_and_an_open_one_past_its_due_date_is_overdue() -> None:
    today = dt.date(2026, 11, 20)
    past, later = dt.date(2026, 9, 30), dt.date(2026, 12, 31)
    counted = actions_by_agency(
        [
            ActionInput("2026-H1", "police", "Police", "in_progress", past),
            ActionInput("2026-H1", "police", "Police", "open", later),
            ActionInput("2026-H1", "csc", "CSC", "done", past),
            ActionInput("2026-H1", "csc", "CSC", "dropped", past),
            ActionInput("2026-H1", "", "", "open", past),
        ],
        today,
    )

    assert counted == (
        AgencyActions("csc", "CSC", total=2, done=1, open=0, overdue=0, dropped=1),
        AgencyActions("", "No agency", total=1, done=0, open=1, overdue=1, dropped=0),
        AgencyActions("police", "Police", total=2, done=0, open=2, overdue=1, dropped=0),
    )


def test_the_totals_and_the_json_hold_every_figure() -> None:
    report = figures(
        round_input(
            "2026-H1",
            audit(HK1, "csc", form("good", "good")),
            timings=(ReturnTiming(DUE, DUE),),
        ),
        actions=(ActionInput("2026-H1", "csc", "CSC", "done", DUE),),
    )

    assert report.totals["on_time"] == 1 and report.totals["actions_done"] == 1
    data = report.to_json()
    assert data["grades_by_section"][0]["mean_score"] == {"2026-H1": 3.0}
    assert data["returns"] == [
        {
            "round": "2026-H1",
            "audits": 1,
            "on_time": 1,
            "late": 0,
            "not_submitted": 0,
            "escalated": 0,
        }
    ]
    assert out_stem("2026-27") == "year-report-2026-27"
    assert out_stem("2026-27", "city") == "year-report-2026-27-city"
