"""Every round at a glance: ``auditround round list``.

For each round: its status, focus, areas, launch and due dates, when it really
opened, and how far its audits have got, counted by the state each one shows
(:func:`.queries.shown_states`: an issued task reads ``queued`` until the mail
server accepted it, then ``sent``, or ``failed``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from audit_core.domain.models import Assignment, AuditRound, RoundCase
from audit_core.domain.workdays import zone
from audit_core.services.queries import shown_states
from audit_core.services.unit_of_work import UnitOfWork

# The states an assignment can show, in the order a round moves through them.
STATES = ("unfilled", "assigned", "queued", "sent", "failed", "declined", "submitted")


@dataclass(frozen=True)
class RoundLine:
    round_id: str
    status: str
    focus_id: str
    focus_name: str
    areas: tuple[str, ...]
    launch_on: dt.date
    due_on: dt.date
    launched_at: dt.datetime | None
    cases: int
    progress: dict[str, int]  # shown state -> assignments (every state of STATES, in order)

    @property
    def assignments(self) -> int:
        return sum(self.progress.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "status": self.status,
            "focus": {"id": self.focus_id, "name": self.focus_name},
            "areas": list(self.areas),
            "launch_on": self.launch_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "launched_at": self.launched_at.isoformat() if self.launched_at else None,
            "cases": self.cases,
            "assignments": self.assignments,
            "progress": dict(self.progress),
        }


def list_rounds(uow: UnitOfWork) -> list[RoundLine]:
    """Every round, the latest launch first, with its progress by shown state."""
    session, config = uow.session, uow.config
    rounds = list(
        session.scalars(select(AuditRound).order_by(AuditRound.launch_on.desc(), AuditRound.id))
    )
    rows = session.execute(
        select(Assignment, RoundCase.round_id).join(
            RoundCase, RoundCase.id == Assignment.round_case_id
        )
    ).all()
    states = shown_states(session, [assignment for assignment, _ in rows])
    progress: dict[str, Counter[str]] = {}
    for assignment, round_id in rows:
        progress.setdefault(round_id, Counter())[states[assignment.id]] += 1
    cases: dict[str, int] = {
        round_id: int(count)
        for round_id, count in session.execute(
            select(RoundCase.round_id, func.count()).group_by(RoundCase.round_id)
        )
    }
    names = {f.id: f.name for f in config.focuses}
    timezone = uow.timezone
    lines = []
    for r in rounds:
        counted = progress.get(r.id, Counter())
        shown = {state: counted.get(state, 0) for state in STATES}
        shown.update({k: v for k, v in counted.items() if k not in shown})  # any other state
        lines.append(
            RoundLine(
                round_id=r.id,
                status=r.status,
                focus_id=r.focus_id,
                focus_name=names.get(r.focus_id, r.focus_id),
                areas=tuple(r.areas),
                launch_on=r.launch_on,
                due_on=r.due_on,
                launched_at=_local(r.launched_at, timezone),
                cases=cases.get(r.id, 0),
                progress=shown,
            )
        )
    return lines


def _local(value: dt.datetime | None, timezone: str) -> dt.datetime | None:
    return value.astimezone(zone(timezone)) if value else None
