"""The earlier rounds' actions an area's briefing reports on (carry-over), read for its draft.

:func:`earlier_actions` reads the area's actions with their rounds, their owners' agencies
and their latest updates, rates each for today (:func:`audit_core.domain.actions.rag_of`),
finds the area's briefings issued before (when, and from which rounds), and leaves the
choice and the printed form to :func:`audit_core.domain.carry_over.carried_over`. Plain
reads; nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit_core.domain.actions import last_update_on, rag_of
from audit_core.domain.briefing import ActionProgress
from audit_core.domain.carry_over import ActionRecord, EarlierBriefing, carried_over
from audit_core.domain.models import (
    Action,
    Agency,
    AuditRound,
    Briefing,
    BriefingStatus,
)
from audit_core.services.unit_of_work import UnitOfWork


def earlier_actions(
    uow: UnitOfWork, area_id: str, rounds: Sequence[AuditRound], scope_key: str
) -> tuple[ActionProgress, ...]:
    """The actions of the area's earlier rounds that its briefing over ``rounds`` reports
    on, as it prints them (none for a scope whose rounds were never launched)."""
    launched = [r.launched_at for r in rounds if r.launched_at is not None]
    if not launched:
        return ()
    names = {t.id: t.name for t in uow.config.themes}
    return carried_over(
        _records(uow, area_id),
        scope_starts=min(launched),
        earlier=issued_before(uow, area_id, scope_key),
        theme_names=names,
    )


def issued_before(uow: UnitOfWork, area_id: str, scope_key: str) -> list[EarlierBriefing]:
    """The area's issued briefings of other scopes: when each was issued, and when the
    first of its rounds was launched."""
    issued = uow.session.execute(
        select(Briefing.issued_at, Briefing.round_ids).where(
            Briefing.area_id == area_id,
            Briefing.scope != scope_key,
            Briefing.status == BriefingStatus.ISSUED,
            Briefing.issued_at.is_not(None),
        )
    ).tuples()
    rows = [(at, [str(r) for r in round_ids or ()]) for at, round_ids in issued]
    wanted = {r for _, round_ids in rows for r in round_ids}
    launched = {
        round_id: at
        for round_id, at in uow.session.execute(
            select(AuditRound.id, AuditRound.launched_at).where(AuditRound.id.in_(wanted))
        ).tuples()
        if at is not None
    }
    made = []
    for at, round_ids in rows:
        starts = [launched[r] for r in round_ids if r in launched]
        if at is not None and starts:
            made.append(EarlierBriefing(issued_at=at, scope_starts=min(starts)))
    return made


def _records(uow: UnitOfWork, area_id: str) -> list[ActionRecord]:
    """Every action of the area, with its round's launch and its owner's agency."""
    rows = uow.session.execute(
        select(Action, AuditRound.launched_at, Agency.name)
        .join(AuditRound, AuditRound.id == Action.round_id)
        .outerjoin(Agency, Agency.id == Action.agency_id)
        .where(Action.area_id == area_id, AuditRound.launched_at.is_not(None))
        .options(selectinload(Action.updates))
        .order_by(Action.id)
    ).tuples()
    follow_up, today = uow.config.cadence.action_follow_up, uow.today
    made = []
    for action, launched_at, agency_name in rows:
        assert launched_at is not None
        last = last_update_on(action, uow.timezone)
        made.append(
            ActionRecord(
                action_id=action.id,
                round_id=action.round_id,
                round_launched_at=launched_at,
                theme_id=action.theme_id,
                text=action.text,
                agency_name=agency_name or "",
                due_on=action.due_on,
                status=action.status,
                rag=rag_of(action.status, action.due_on, last, today, follow_up),
                closed_at=action.closed_at,
                latest_note=action.updates[-1].note if action.updates else "",
            )
        )
    return made
