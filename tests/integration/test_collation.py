"""Collating a launched round whose returns came in through the return form's use cases
(tests/support/collation.py): the figures a coordinator reads on the audit day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from support.collation import CONCERN, collation_round
from support.rounds import planned_round
from support.trail import events

from audit_core.domain.errors import InvalidState, NotFound
from audit_core.services.collation import collate
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
HK_CSC = "Hackney Children and Families Service"
MET = "Metropolitan Police (Central East BCU)"


@pytest.fixture
def collated_round(uow: UnitOfWork, session: Session) -> None:
    collation_round(uow, session)
    start_moderation(uow, "2026-H1")
    session.commit()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_totals_count_submitted_returns_only(
    collated_round: None, make_uow: Callable[..., UnitOfWork]
) -> None:
    collation = collate(make_uow(actor="amara-bello"), "2026-H1")
    assert collation.status == "moderation"
    assert collation.figures.totals.to_json() == {
        "cases": 3,
        "assignments": 7,
        "submitted": 3,
        "not_received": 4,
    }


def test_the_grades_by_section_and_by_agency_leave_the_draft_out(
    collated_round: None, uow: UnitOfWork
) -> None:
    figures = collate(uow, "2026-H1").figures
    by_section = {s.section_id: s for s in figures.by_section}
    recognition = by_section["recognition"]
    assert dict(recognition.counts) == {
        "outstanding": 1,  # the Health Visiting draft's outstanding grades are not counted
        "good": 1,
        "requires-improvement": 1,
        "inadequate": 0,
    }
    assert (recognition.graded, recognition.mean) == (3, 3.0)
    assert (by_section["assessment"].graded, by_section["assessment"].mean) == (3, 2.67)
    assert [(a.agency_name, a.returns) for a in figures.by_agency] == [
        ("City of London Children and Families Team", 1),
        (HK_CSC, 1),
        (MET, 1),
    ]
    met = figures.by_agency[2]
    assert {s.mean for s in met.sections} == {2.0}


def test_each_case_shows_its_agencies_side_by_side_with_those_not_in(
    collated_round: None, uow: UnitOfWork
) -> None:
    figures = collate(uow, "2026-H1").figures
    assert [(c.reference, c.area_name) for c in figures.cases] == [
        ("CT-00042", "City of London"),
        ("HK-00123", "Hackney"),
        ("HK-00456", "Hackney"),
    ]
    hk = figures.cases[1]
    assert [(a.agency_id, a.state) for a in hk.agencies] == [
        ("gp", "unfilled"),
        ("hackney-csc", "submitted"),
        ("met-police", "submitted"),
    ]
    csc = dict(hk.agencies[1].grades)
    assert (csc["recognition"], csc["overall"]) == ("outstanding", "good")
    assert set(dict(hk.agencies[0].grades).values()) == {None}


def test_strengths_and_lessons_are_grouped_by_theme_with_where_they_came_from(
    collated_round: None, uow: UnitOfWork
) -> None:
    figures = collate(uow, "2026-H1").figures
    [sharing] = figures.strengths
    assert (sharing.theme_name, sharing.count) == ("Information sharing", 2)
    assert [(e.key_phrase, e.case_ref, e.agency_id) for e in sharing.entries] == [
        ("a shared chronology", "HK-00123", "hackney-csc"),
        ("same-day referral", "HK-00123", "met-police"),
    ]
    assert [(g.theme_id, g.count) for g in figures.lessons] == [
        ("voice-of-the-child", 1),  # the taxonomy's order, counts being equal
        ("think-family", 1),
    ]
    assert figures.lessons[1].entries[0].text == "The mother's own needs were not assessed."


def test_returns_not_received_and_concerns_raised_are_listed(
    collated_round: None, uow: UnitOfWork
) -> None:
    figures = collate(uow, "2026-H1").figures
    assert [(n.case_ref, n.agency_id, n.auditor_id, n.state) for n in figures.not_received] == [
        ("CT-00042", "city-police", "oliver-pemberton", "declined"),
        ("HK-00123", "gp", None, "unfilled"),
        ("HK-00456", "health-visiting", "fatima-el-amin", "draft"),
        ("HK-00456", "housing", None, "unfilled"),
    ]
    assert {n.due_on.isoformat() for n in figures.not_received} == {"2026-03-30"}
    [concern] = figures.concerns
    assert (concern.case_ref, concern.agency_name, concern.auditor_name) == (
        "HK-00123",
        MET,
        "DS Sarah Chukwuma",
    )
    assert concern.description == CONCERN


def test_a_collation_is_recorded_with_counts_only(
    collated_round: None, make_uow: Callable[..., UnitOfWork], session: Session
) -> None:
    collate(make_uow(actor="amara-bello"), "2026-H1")
    session.commit()
    [collated] = [e for e in events(session) if e.action == "round_collated"]
    assert (collated.actor, collated.object_type, collated.object_id) == (
        "amara-bello",
        "audit_round",
        "2026-H1",
    )
    assert collated.details == {
        "cases": 3,
        "assignments": 7,
        "submitted": 3,
        "not_received": 4,
        "concerns": 1,
    }


def test_the_returns_are_read_in_a_few_queries_whatever_the_round_size(
    collated_round: None, uow: UnitOfWork, session: Session, engine: Engine
) -> None:
    session.expire_all()
    with statements(engine) as seen:
        collate(uow, "2026-H1")
    # the round, its cases with their files, audits, auditors and agencies, the returns, the
    # task emails and the area names: nine; one query per audit would make it sixteen
    assert len(seen) <= 10, seen


def test_a_planned_round_has_nothing_to_collate_and_an_unknown_round_is_named(
    uow: UnitOfWork,
) -> None:
    planned_round(uow)
    with pytest.raises(InvalidState, match="Round 2026-H1 is planned: it has no returns"):
        collate(uow, "2026-H1")
    with pytest.raises(NotFound, match="There is no round 2025-H2"):
        collate(uow, "2025-H2")
