"""A lesson that comes back in the next round of an area is a well established finding: the
collation says so before the audit day, the audit day's record flags the lesson, and the
briefing prints it so.

Hackney's two rounds of 2026-27 (:mod:`support.year_rounds`) both have a lesson on
engaging fathers; the City's case is only in the first.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import CONFIG_DIR
from support.year_rounds import H1, H2, at, day, run_round

from audit_core.adapters.briefing_render import WeasyPrintRenderer
from audit_core.cli.collate_view import print_collation
from audit_core.cli.common import console
from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.models import Finding, FindingKind
from audit_core.domain.policy import BoardConfig
from audit_core.domain.recurrence import Recurring
from audit_core.services import briefings
from audit_core.services.collation import collate
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
FATHERS = ("engaging-fathers", "Engagement with fathers and significant others")
OPEN_H2 = dataclasses.replace(H2, audit_day=None)


def lessons(session: Session, round_id: str) -> dict[str, bool]:
    """The round's lessons: theme -> flagged recurring."""
    rows = session.scalars(
        select(Finding).where(Finding.round_id == round_id, Finding.kind == FindingKind.LESSON)
    )
    return {f.theme_id: f.recurring for f in rows}


def test_the_collation_names_the_lesson_themes_the_area_had_in_its_previous_round(
    uow: UnitOfWork,
) -> None:
    run_round(uow, H1)
    run_round(uow, OPEN_H2)

    collated = collate(at(uow, day(2026, 10, 20)), "2026-H2")

    assert collated.recurring == (Recurring("hackney", "Hackney", "2026-H1", (FATHERS,)),)
    assert collated.to_json()["recurring_lessons"] == [
        {
            "area": "hackney",
            "name": "Hackney",
            "previous_round": "2026-H1",
            "themes": [{"theme": FATHERS[0], "name": FATHERS[1]}],
        }
    ]
    with console.capture() as printed:
        print_collation(collated)
    said = " ".join(printed.get().split())
    assert (
        "Well established findings in Hackney: Engagement with fathers and significant "
        "others (lessons of round 2026-H1 too)." in said
    )


def test_an_areas_first_round_has_no_recurring_theme(uow: UnitOfWork) -> None:
    run_round(uow, H1)

    collated = collate(at(uow, day(2026, 6, 1)), "2026-H1")

    assert collated.recurring == ()
    with console.capture() as printed:
        print_collation(collated)
    assert "Well established" not in printed.get()


def test_the_audit_day_flags_the_lesson_whose_theme_recurs_in_the_area(
    uow: UnitOfWork, session: Session
) -> None:
    run_round(uow, H1)
    run_round(uow, H2)

    assert lessons(session, "2026-H2") == {"engaging-fathers": True}
    assert lessons(session, "2026-H1") == {
        "engaging-fathers": False,
        "voice-of-the-child": False,
        "think-family": False,
    }


def test_a_lesson_kept_back_in_the_previous_round_does_not_recur(
    uow: UnitOfWork, session: Session
) -> None:
    run_round(uow, H1)
    fathers = session.scalars(
        select(Finding).where(Finding.round_id == "2026-H1", Finding.theme_id == FATHERS[0])
    ).one()
    fathers.forward = False  # the audit day kept it in the round's record only
    session.commit()
    run_round(uow, H2)

    assert lessons(session, "2026-H2") == {"engaging-fathers": False}


def test_recording_the_audit_day_again_keeps_the_flag(uow: UnitOfWork, session: Session) -> None:
    run_round(uow, H1)
    run_round(uow, H2)
    later = at(uow, day(2026, 11, 18))

    again = record_audit_day(later, "2026-H2", start_sheet(later, "2026-H2"))
    session.commit()

    assert not again.changed
    assert lessons(session, "2026-H2") == {"engaging-fathers": True}


def test_the_briefing_prints_the_recurring_lesson_as_a_well_established_finding(
    uow: UnitOfWork, config: BoardConfig, tmp_path: Path
) -> None:
    run_round(uow, H1)
    run_round(uow, H2)

    drafted = briefings.draft(at(uow, day(2026, 11, 20)), "hackney", parse_scope(["2026-H2"]))

    [lesson] = drafted.content.rounds[0].lessons
    assert (lesson.theme_id, lesson.recurring) == (FATHERS[0], True)
    pdf = tmp_path / "briefing.pdf"
    pdf.write_bytes(WeasyPrintRenderer(config, CONFIG_DIR).render(drafted.content).pdf)
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    said = re.sub(r"\s+", " ", text)
    assert "Engagement with fathers and significant others A well established finding" in said
