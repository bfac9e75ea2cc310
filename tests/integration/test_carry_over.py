"""The next briefing of an area reports on its earlier rounds' actions: those still open,
and those closed since the previous briefing that could report on them, with the owner's
agency (never the person), due date, status and RAG, and the latest note; printed in both
layouts.

The year is :func:`support.year_rounds.the_year`: four actions on 2026-H1's lessons (one
of them the City's), Hackney's 2026-H1 briefing issued on 10 June, then 2026-H2.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from support import CONFIG_DIR
from support.year_rounds import H1_ISSUED, at, day, the_year

from audit_core.adapters.briefing_render import WeasyPrintRenderer
from audit_core.domain.briefing import ActionProgress
from audit_core.domain.briefing_edit import from_data, to_data
from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.policy import BoardConfig
from audit_core.services import actions, briefings
from audit_core.services.ports import BriefingRenderer
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
H2 = parse_scope(["2026-H2"])
DRAFTED_ON = day(2026, 11, 20)
FATHERS = ActionProgress(
    round_id="2026-H1",
    theme_id="engaging-fathers",
    heading="Engagement with fathers and significant others",
    text="Add a prompt on fathers and significant adults to the early help assessment.",
    agency="Hackney Children and Families Service",
    due_on="30 September 2026",
    status="done",
    rag="green",
    progress="The prompt is live on the assessment form.",
)
HEALTH = ActionProgress(
    round_id="2026-H1",
    theme_id="voice-of-the-child",
    heading="Voice of the child",
    text="Remind health visitors to see the children alone at each visit.",
    agency="Health Visiting and School Nursing",
    due_on="28 August 2026",
    status="done",
    rag="green",
    progress="Every health visiting team has had the reminder.",
)
VOICE = ActionProgress(
    round_id="2026-H1",
    theme_id="voice-of-the-child",
    heading="Voice of the child",
    text="Brief every response team on recording what a child says, in the child's words.",
    agency="Metropolitan Police (Central East BCU)",
    due_on="30 September 2026",
    status="in_progress",
    rag="red",
    progress="Briefings are booked for the autumn.",
)


@pytest.fixture
def year(uow: UnitOfWork, renderer: BriefingRenderer) -> dict[str, int]:
    return the_year(uow, renderer)


def pdf_text(tmp_path: Path, name: str, pdf: bytes) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    )
    return re.sub(r"\s+", " ", done.stdout)


def pages(tmp_path: Path, name: str) -> int:
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / f"{name}.pdf")], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"^Pages:\s+(\d+)$", info, flags=re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def test_the_next_briefing_reports_on_the_earlier_actions_still_open_or_closed_since(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    drafted = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2)

    # the health visitors' action was done on 1 June, before 2026-H1's own briefing of 10
    # June, which reports only on earlier rounds' actions: so this one reports it done. The
    # City's action is not Hackney's
    assert drafted.content.actions == (FATHERS, HEALTH, VOICE)


def test_a_briefing_names_the_owners_agency_and_never_the_person(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    drafted = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2)

    held = str(to_data(drafted.content))
    for person in ("amara-bello", "Amara", "sarah-chukwuma", "Sarah", "@example.org"):
        assert person not in held


def test_the_first_briefing_of_the_year_has_no_earlier_action_to_report(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    first = briefings.show(uow, "hackney", parse_scope(["2026-H1"]))

    assert first.status == "issued" and first.content.actions == ()


def test_a_briefing_covering_the_actions_own_round_does_not_report_them(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    later = at(uow, DRAFTED_ON)

    # Hackney's year covers 2026-H1 and 2026-H2; the City's one round is 2026-H1
    assert briefings.draft(later, "hackney", parse_scope((), "2026-27")).content.actions == ()
    assert briefings.draft(later, "city", parse_scope(["2026-H1"])).content.actions == ()


def test_the_status_is_read_afresh_each_draft_so_the_board_sees_what_changed(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    first = briefings.draft(at(uow, day(2026, 11, 18)), "hackney", H2)
    assert first.content.actions[2] == VOICE
    actions.close(
        at(uow, day(2026, 11, 19)), year["voice"], done=True, note="Every team has been briefed."
    )

    again = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2)

    assert again.version == first.version + 1
    assert again.content.actions[2] == dataclasses.replace(
        VOICE, status="done", rag="green", progress="Every team has been briefed."
    )


def test_an_action_left_without_an_update_too_long_is_amber(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    # 2 September: the police's action, due at the end of the month, last updated in June
    drafted = briefings.draft(at(uow, day(2026, 9, 2)), "hackney", H2)

    assert [(a.status, a.rag) for a in drafted.content.actions] == [
        ("done", "green"),
        ("done", "green"),
        ("in_progress", "amber"),
    ]


def test_the_actions_survive_editing_and_an_edited_action_is_checked(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    drafted = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2)
    data = to_data(drafted.content)
    data["actions"][1]["progress"] = "Two of five teams briefed; the rest by December."

    edited = briefings.edit(at(uow, DRAFTED_ON), "hackney", H2, from_data(data, "hackney.yaml"))

    assert edited.content.actions[1].progress == "Two of five teams briefed; the rest by December."
    assert briefings.show(uow, "hackney", H2).content.actions == edited.content.actions


def test_both_layouts_print_the_progress_on_earlier_actions(
    year: dict[str, int], uow: UnitOfWork, config: BoardConfig, tmp_path: Path
) -> None:
    content = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2).content
    renderer = WeasyPrintRenderer(config, CONFIG_DIR)

    full = pdf_text(tmp_path, "full", renderer.render(content).pdf)
    seven = pdf_text(tmp_path, "seven", renderer.render(content, layout="seven-minute").pdf)

    assert "Progress on earlier actions" in full
    assert "Action Agency Due Status" in full
    assert "Engagement with fathers and significant others: Add a prompt on fathers" in full
    assert "The prompt is live on the assessment form." in full
    assert "30 September 2026 Done Green" in full  # the RAG in words, not only a colour
    assert "In progress Red" in full
    assert "Earlier actions: 1 in progress, 2 done (1 overdue)." in seven
    assert pages(tmp_path, "seven") == 1


def test_a_briefing_drafted_before_the_carry_over_existed_still_reads(
    year: dict[str, int], uow: UnitOfWork
) -> None:
    drafted = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2)
    stored = to_data(dataclasses.replace(drafted.content, actions=()))
    del stored["actions"]

    assert from_data(stored, "version 1").actions == ()
    assert H1_ISSUED < DRAFTED_ON


def test_a_briefing_with_earlier_actions_gives_the_same_pdf_each_time(
    year: dict[str, int], uow: UnitOfWork, config: BoardConfig
) -> None:
    # an issued version keeps its PDF's SHA-256: the table of actions must not change it
    content = briefings.draft(at(uow, DRAFTED_ON), "hackney", H2).content
    renderer = WeasyPrintRenderer(config, CONFIG_DIR)

    assert renderer.render(content).pdf == renderer.render(content).pdf
