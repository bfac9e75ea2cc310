"""The weekly digest of the action plan, to the business unit and the QA subgroup.

It says what changed since the last digest (actions new, updated, closed), what is
overdue, what falls due in the next month, and the open actions counted by agency with
their RAG. It goes once a week, on ``action_follow_up.digest_weekday`` (the next working
day of that week when the day is a bank holiday; a digest missed on its day goes on a
later working day of the week), at most once (``action-digest:<its day>``), and only
while there is an action plan to report on.

The RAG of each action is worked out for today with the one rule
(:func:`audit_core.domain.actions.rag_of`), so a preview says what the digest would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from audit_core.domain.action_follow_up import digest_day
from audit_core.domain.actions import last_update_on, rag_of, shown_rag, status_label
from audit_core.domain.models import Action, ActionStatus, OutboxMessage
from audit_core.domain.workdays import local_date, working_days_between
from audit_core.services import emails, outbox
from audit_core.services.ports import Address, Letter
from audit_core.services.unit_of_work import UnitOfWork

DIGEST_KIND = "action_digest"
FIRST_LOOK_BACK = dt.timedelta(days=7)  # "since the last digest", for the first one
_OPEN = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class PlanDigest:
    """What this week's digest says."""

    day: dt.date  # the digest's day (its dedupe key)
    since: dt.datetime  # changes after this moment: the last digest, or a week before
    new: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    closed: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    due_soon: list[dict[str, Any]]  # due within the next month, not overdue
    by_agency: list[dict[str, Any]]  # agency_name, open, red, amber, green, overdue, closed
    open_count: int

    @property
    def worth_sending(self) -> bool:
        """Only while there is a plan: actions open, or changed since the last digest."""
        return bool(self.open_count or self.new or self.updated or self.closed)

    def to_json(self) -> dict[str, Any]:
        def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**r, "due_on": r["due_on"].isoformat()} for r in items]

        return {
            "day": self.day.isoformat(),
            "since": self.since.isoformat(),
            "new": rows(self.new),
            "updated": rows(self.updated),
            "closed": rows(self.closed),
            "overdue": rows(self.overdue),
            "due_soon": rows(self.due_soon),
            "by_agency": self.by_agency,
            "open": self.open_count,
        }


def owed(uow: UnitOfWork) -> PlanDigest | None:
    """This week's digest, if it is owed today and not yet queued (else None)."""
    day = digest_day(uow.today, uow.config.cadence.action_follow_up.digest_weekday)
    if day is None or outbox.find(uow.session, _key(day)) is not None:
        return None
    digest = gather(uow, day)
    return digest if digest.worth_sending else None


def send_owed(uow: UnitOfWork) -> tuple[PlanDigest | None, outbox.Queued | None]:
    """Queue this week's digest if it is owed today (once for its day)."""
    digest = owed(uow)
    if digest is None:
        return None, None
    letter = _letter(uow, digest)
    queued = outbox.queue(uow, outbox.Draft(_key(digest.day), DIGEST_KIND, letter))
    return digest, queued


def _key(day: dt.date) -> str:
    return f"action-digest:{day.isoformat()}"


def _last_digest_at(uow: UnitOfWork) -> dt.datetime | None:
    return uow.session.scalar(
        select(func.max(OutboxMessage.queued_at)).where(OutboxMessage.kind == DIGEST_KIND)
    )


def gather(uow: UnitOfWork, day: dt.date) -> PlanDigest:
    """What the digest of ``day`` says, from every action of the plan (tens to hundreds)."""
    since = _last_digest_at(uow) or uow.now - FIRST_LOOK_BACK
    plan = list(
        uow.session.scalars(
            select(Action).options(selectinload(Action.updates)).order_by(Action.due_on, Action.id)
        )
    )
    today, month_on = uow.today, uow.today + relativedelta(months=1)
    rows = {a.id: _row(uow, a) for a in plan}
    still_open = [a for a in plan if a.status in _OPEN]
    new = [a for a in plan if a.created_at > since]
    closed = [a for a in plan if a.closed and a.closed_at is not None and a.closed_at > since]
    seen = {a.id for a in new + closed}
    updated = [a for a in plan if a.id not in seen and any(u.at > since for u in a.updates)]
    return PlanDigest(
        day=day,
        since=since,
        new=[rows[a.id] for a in new],
        updated=[rows[a.id] for a in updated],
        closed=[rows[a.id] for a in closed],
        overdue=[rows[a.id] for a in still_open if a.due_on < today],
        due_soon=[rows[a.id] for a in still_open if today <= a.due_on <= month_on],
        by_agency=_by_agency(rows, still_open, closed, today),
        open_count=len(still_open),
    )


def _row(uow: UnitOfWork, action: Action) -> dict[str, Any]:
    """An action as the digest lists it, rated for today."""
    themes = {t.id: t.name for t in uow.config.themes}
    agencies = {a.id: a.name for a in uow.config.agencies}
    last = last_update_on(action, uow.timezone)
    rag = rag_of(action.status, action.due_on, last, uow.today, uow.config.cadence.action_follow_up)
    return {
        "action_id": action.id,
        "round_id": action.round_id,
        "theme_name": themes.get(action.theme_id, action.theme_id),
        "text": action.text,
        "owner_name": action.owner_name,
        "agency_name": agencies.get(action.agency_id or "", "Other"),
        "due_on": action.due_on,
        "status": status_label(action.status),
        "rag": shown_rag(action.status, rag),
        "days_late": 0 if action.closed else working_days_between(action.due_on, uow.today),
    }


def _by_agency(
    rows: dict[int, dict[str, Any]], still_open: list[Action], closed: list[Action], today: dt.date
) -> list[dict[str, Any]]:
    """The open actions of each agency by RAG, the overdue ones, those closed this week;
    then a row of totals."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for action in still_open:
        name = rows[action.id]["agency_name"]
        counts[name]["open"] += 1
        counts[name][rows[action.id]["rag"]] += 1
        counts[name]["overdue"] += action.due_on < today
    for action in closed:
        counts[rows[action.id]["agency_name"]]["closed"] += 1
    keys = ("open", "red", "amber", "green", "overdue", "closed")
    table: list[dict[str, Any]] = [
        {"agency_name": name, **{k: counts[name][k] for k in keys}} for name in sorted(counts)
    ]
    if table:
        totals = {k: sum(counts[name][k] for name in counts) for k in keys}
        table.append({"agency_name": "All agencies", **totals})
    return table


def _letter(uow: UnitOfWork, digest: PlanDigest) -> Letter:
    config = uow.config
    unit = config.board.business_unit
    to: list[Address] = [(unit.name, unit.email)]
    if unit.qa_subgroup is not None:
        to.append((unit.qa_subgroup.name, unit.qa_subgroup.email))
    return Letter(
        template=DIGEST_KIND,
        context={
            "board_name": config.board.name,
            "business_unit": emails.business_unit(config),
            "today": uow.today,
            "since": local_date(digest.since, uow.timezone),
            "new": digest.new,
            "updated": digest.updated,
            "closed": digest.closed,
            "overdue": digest.overdue,
            "due_soon": digest.due_soon,
            "by_agency": digest.by_agency,
            "open_count": digest.open_count,
        },
        to=to,
    )
