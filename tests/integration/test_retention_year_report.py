"""The year's report gives the same figures before and after the retention purge.

The year is :func:`support.year_rounds.the_year` (Hackney's two rounds of 2026-27, the
City's case in the first, the escalations, the audit days and the actions on the first
round's lessons), with its rounds closed: 2026-H1 when the City's briefing is issued on
Thursday 11 June 2026 (Hackney's was issued the day before), 2026-H2 when Hackney's is
issued on Tuesday 1 December 2026. Kept 24 months, 2026-H1 is due from 11 June 2028 and
2026-H2 from 1 December 2028.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from support import LONDON
from support.year_rounds import at, the_year

from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.models import Assignment, AuditReturn, AuditRound, RoundCase
from audit_core.services import briefings
from audit_core.services.audit_verify import verify_trail
from audit_core.services.ports import BriefingRenderer
from audit_core.services.retention import purge_expired
from audit_core.services.unit_of_work import UnitOfWork
from audit_core.services.year_report import year_report

pytestmark = pytest.mark.database
H1_DUE = dt.datetime(2028, 6, 11, 5, 30, tzinfo=LONDON)
H2_DUE = dt.datetime(2028, 12, 1, 5, 30, tzinfo=LONDON)


def issue(
    uow: UnitOfWork, renderer: BriefingRenderer, area: str, round_id: str, when: dt.datetime
) -> None:
    scope = parse_scope([round_id])
    briefings.draft(dataclasses.replace(at(uow, when), actor="alice"), area, scope)
    briefings.approve(dataclasses.replace(at(uow, when), actor="bob"), area, scope)
    briefings.issue(at(uow, when), area, scope, renderer)
    uow.session.commit()


@pytest.fixture
def closed_year(uow: UnitOfWork, renderer: BriefingRenderer) -> None:
    the_year(uow, renderer)
    issue(uow, renderer, "city", "2026-H1", dt.datetime(2026, 6, 11, 10, tzinfo=LONDON))
    issue(uow, renderer, "hackney", "2026-H2", dt.datetime(2026, 12, 1, 10, tzinfo=LONDON))
    for round_id in ("2026-H1", "2026-H2"):
        closed = uow.session.get(AuditRound, round_id)
        assert closed is not None and closed.status == "closed", round_id


def figures(uow: UnitOfWork, when: dt.datetime, area: str | None) -> dict[str, Any]:
    made = year_report(at(uow, when), "2026-27", area).to_json()
    uow.session.commit()
    return made


def returns_text(uow: UnitOfWork, round_id: str) -> list[str]:
    """Every lesson's and strength's text still stored in the round's returns."""
    uow.session.expire_all()
    found = uow.session.scalars(
        select(AuditReturn)
        .join(Assignment, Assignment.id == AuditReturn.assignment_id)
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .where(RoundCase.round_id == round_id)
    ).all()
    return [e.get("text", "") for r in found for e in [*r.strengths, *r.lessons] if e.get("text")]


@pytest.mark.parametrize("area", ["hackney", None])
def test_the_years_figures_are_the_same_after_its_first_round_is_purged(
    closed_year: None, uow: UnitOfWork, area: str | None
) -> None:
    later = H1_DUE + dt.timedelta(hours=4)
    before = figures(uow, later, area)

    report = purge_expired(at(uow, H1_DUE))
    uow.session.commit()

    assert [r.round_id for r in report.purged] == ["2026-H1"]
    assert [w.round_id for w in report.waiting] == ["2026-H2"]  # closed less long ago
    assert returns_text(uow, "2026-H1") == []
    assert returns_text(uow, "2026-H2") != []  # untouched
    assert figures(uow, later, area) == before
    assert before["totals"]["returns_submitted"] > 0 and before["lessons_by_theme"]


def test_and_the_same_once_both_rounds_are_purged(closed_year: None, uow: UnitOfWork) -> None:
    later = H2_DUE + dt.timedelta(days=1)
    before = figures(uow, later, None)

    purge_expired(at(uow, H1_DUE))
    uow.session.commit()
    purge_expired(at(uow, H2_DUE))
    uow.session.commit()

    assert returns_text(uow, "2026-H2") == []
    assert figures(uow, later, None) == before
    checked = verify_trail(uow.session)
    assert checked.intact, checked.sentence()
