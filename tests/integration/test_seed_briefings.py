"""The board's two published briefings, made again from returns and an audit day.

Each seed (:mod:`support.seed_briefings`) is built as the business unit builds a briefing
(:mod:`support.seed_rounds`): auditors' returns through the form's use cases, the audit day
through moderation, then the briefing drafted, edited as its YAML file, approved by a
second person and issued. The draft must already carry the seed's sections, themes and
key phrases, from the returns alone; the edit gives it the board's own headings, prompts
and links; the issued PDF prints all of it, in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import unicodedata
from pathlib import Path

import yaml
from sqlalchemy.orm import Session
from support import CONFIG_DIR, LONDON
from support.seed_briefings import city_briefing, hackney_briefing, reading_order
from support.seed_rounds import expected_findings, seed_round

from audit_core.adapters.briefing_render import WeasyPrintRenderer
from audit_core.domain.briefing import BriefingContent
from audit_core.domain.briefing_edit import from_data, to_data
from audit_core.domain.briefing_scope import Scope, rounds_scope, year_scope
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services import briefings
from audit_core.services.unit_of_work import UnitOfWork

AFTER = dt.datetime(2027, 3, 1, 10, 0, tzinfo=LONDON)


def _structure(content: BriefingContent) -> list[tuple[object, ...]]:
    """What the returns and the audit day decide: per round, the strengths by theme with
    their key phrases, the lessons by theme with their text, the cases and the grades."""
    return [
        (
            tuple((g.theme_id, tuple(s.key_phrase for s in g.items)) for g in part.strengths),
            tuple((lesson.theme_id, lesson.text) for lesson in part.lessons),
            tuple(c.summary for c in part.cases if c.summary),
            part.grades,
        )
        for part in content.rounds
    ]


def _edited(expected: BriefingContent, draft: BriefingContent) -> BriefingContent:
    """The seed's wording on the draft's rounds: what the business unit types in."""
    rounds = tuple(
        dataclasses.replace(mine, round_id=ours.round_id, period=ours.period)
        for mine, ours in zip(expected.rounds, draft.rounds, strict=True)
    )
    return dataclasses.replace(
        expected, scope=draft.scope, period=draft.period, process=draft.process, rounds=rounds
    )


def _edit_approve_issue(
    uow: UnitOfWork, expected: BriefingContent, scope: Scope, folder: Path
) -> tuple[BriefingContent, str]:
    """Draft, edit through the YAML file, approve by someone else and issue; the issued
    content and the PDF's text."""
    area = expected.area_id
    draft = briefings.draft(uow, area, scope)
    drafted = briefings.show(uow, area, scope).content
    assert draft.version == 1
    assert _structure(drafted) == _structure(expected)
    path = folder / "briefing.yaml"
    path.write_text(yaml.safe_dump(to_data(_edited(expected, drafted)), sort_keys=False))
    edited = from_data(yaml.safe_load(path.read_text()), str(path))
    assert briefings.edit(uow, area, scope, edited, "the board's wording").version == 2
    uow.session.commit()
    approver = dataclasses.replace(uow, actor="cli:second-reader")
    briefings.approve(approver, area, scope)
    issued = briefings.issue(approver, area, scope, WeasyPrintRenderer(uow.config, CONFIG_DIR))
    uow.session.commit()
    pdf = folder / "briefing.pdf"
    pdf.write_bytes(issued.documents[0].pdf)
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return briefings.show(uow, area, scope).content, text


def _in_order(text: str, wanted: list[str]) -> None:
    """Each of ``wanted`` in the text, in order (a key phrase may start a bullet in capitals)."""
    flat = " ".join(unicodedata.normalize("NFKC", text).split()).casefold()
    at = 0
    for item in wanted:
        found = flat.find(" ".join(item.split()).casefold(), at)
        assert found >= 0, f"{item!r} is not in the PDF after position {at}"
        at = found + 1


def test_the_city_briefing_is_made_from_one_rounds_returns_and_audit_day(
    uow: UnitOfWork, session: Session, tmp_path: Path
) -> None:
    expected = city_briefing()
    (part,) = expected.rounds
    seed_round(
        uow,
        part,
        round_id="2026-H2",
        focus="think-family",
        area="city",
        launched=dt.datetime(2026, 7, 6, 9, 0, tzinfo=LONDON),
    )
    content, text = _edit_approve_issue(
        dataclasses.replace(uow, now=AFTER), expected, rounds_scope(["2026-H2"]), tmp_path
    )

    assert content == _edited(expected, content)
    assert [g.heading for g in content.rounds[0].strengths] == [
        "Working in Partnership with Parents",
        "Effective Multi-agency Working",
        "Voice of the Child",
        "Targeted Resources",
    ]
    assert len(content.rounds[0].lessons) == 6
    assert len(content.themes) == 10
    _in_order(text, reading_order(content))
    assert session.get(AuditRound, "2026-H2").status == RoundStatus.CLOSED


def test_the_hackney_year_briefing_has_two_rounds_each_with_its_strengths_and_lessons(
    uow: UnitOfWork, session: Session, tmp_path: Path
) -> None:
    expected = hackney_briefing()
    neglect, early_help = expected.rounds
    seed_round(
        uow,
        neglect,
        round_id="2026-H1",
        focus="neglect-mental-health",
        area="hackney",
        launched=dt.datetime(2026, 4, 13, 9, 0, tzinfo=LONDON),
    )
    seed_round(
        uow,
        early_help,
        round_id="2026-H2",
        focus="early-help",
        area="hackney",
        launched=dt.datetime(2026, 10, 5, 9, 0, tzinfo=LONDON),
        first_case=101,
    )
    content, text = _edit_approve_issue(
        dataclasses.replace(uow, now=AFTER), expected, year_scope("2026-27"), tmp_path
    )

    assert [r.round_id for r in content.rounds] == ["2026-H1", "2026-H2"]
    assert [r.heading for r in content.rounds] == ["Neglect / Parental Mental Health", "Early Help"]
    for mine, seed in zip(content.rounds, expected.rounds, strict=True):
        assert not mine.strengths_by_theme
        assert len(expected_findings(mine)) == len(expected_findings(seed))
        assert mine.strengths and mine.lessons
    fathers = content.rounds[1].lessons[-1]
    assert fathers.heading == "Ensuring engagement with fathers" and fathers.recurring
    _in_order(text, reading_order(content))
    assert {session.get(AuditRound, r).status for r in ("2026-H1", "2026-H2")} == {
        RoundStatus.CLOSED
    }
