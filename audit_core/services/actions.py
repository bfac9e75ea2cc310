"""Actions from the lessons that went forward: made, listed, updated, closed, rated.

* **lessons to act on** (:func:`lessons_to_act_on`): the lessons the audit day sent
  forward to the briefing, of rounds at their briefing or closed, each with the actions
  already made from it.
* **add** (:func:`add`): a SMART action from one of those lessons, with its measure of
  success, an owner (a person of ``people.yaml``, or a name, address and agency) and a
  due date (by default ``cadence.actions_due_months`` on, a working day). The round,
  the theme and the area come from the lesson.
* **list** (:func:`list_actions`), **show** (:func:`show`), the **action plan**
  (:func:`export_table`, rows of text a spreadsheet never runs).
* **update** (:func:`update`) and **close** (:func:`close`) by the business unit, each
  kept as an update of the action (:meth:`Action.record`, the one way its status
  changes). A new due date starts the follow-up again: ``chase_on`` is cleared so that
  the follow-up plans it anew.
* **refresh** (:func:`refresh_rag`): the RAG of every action still open, for today,
  written only where it changed (the weekly follow-up runs it).

Every change records its audit event (ids, statuses, dates and counts; never the text
typed) in the caller's transaction. Input is checked whole first: a refused action or
update writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from audit_core.domain.actions import (
    ActionInput,
    ActionRejected,
    ActionView,
    check_action,
    check_update,
    default_due,
    due_problems,
    parse_status,
    rag_of,
    status_label,
    view_of,
)
from audit_core.domain.errors import AuditRoundError, InvalidState, NotFound
from audit_core.domain.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    AuditRound,
    Finding,
    FindingKind,
    RoundStatus,
)
from audit_core.domain.progress import spreadsheet_text
from audit_core.domain.returns import clean
from audit_core.domain.workdays import local_date
from audit_core.services.queries import get_round
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

ACTING: tuple[str, ...] = (RoundStatus.BRIEFING, RoundStatus.CLOSED)  # rounds whose lessons act
STILL_OPEN: tuple[str, ...] = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
NOT_RECORDED = "The update was not recorded; nothing was written"


class Owner(NamedTuple):
    """An owner not in ``people.yaml``: their name, address and agency."""

    name: str
    email: str
    agency_id: str


@dataclass(frozen=True)
class LessonView:
    """A lesson that went forward from the audit day, and the actions made from it."""

    id: int
    round_id: str
    round_status: str
    theme_id: str
    theme_name: str
    text: str
    areas: tuple[str, ...]
    case_refs: tuple[str, ...]
    agencies: tuple[str, ...]
    recurring: bool
    actions: tuple[ActionView, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round": self.round_id,
            "round_status": self.round_status,
            "theme": self.theme_id,
            "theme_name": self.theme_name,
            "text": self.text,
            "areas": list(self.areas),
            "cases": list(self.case_refs),
            "agencies": list(self.agencies),
            "recurring": self.recurring,
            "actions": [a.to_json() for a in self.actions],
        }


# --- reading -----------------------------------------------------------------------------


def lessons_to_act_on(
    uow: UnitOfWork, round_id: str | None = None, area_id: str | None = None
) -> list[LessonView]:
    """The lessons that went forward, of rounds at their briefing or closed (of one round,
    or of the cases of one area), in the rounds' order and the audit day's."""
    query = (
        select(Finding, AuditRound.status)
        .join(AuditRound, AuditRound.id == Finding.round_id)
        .where(
            Finding.kind == FindingKind.LESSON,
            Finding.forward.is_(True),
            AuditRound.status.in_(ACTING),
        )
        .order_by(Finding.round_id, Finding.position, Finding.id)
    )
    if round_id is not None:
        audit_round = get_round(uow.session, round_id)
        _require_acting(audit_round)
        query = query.where(Finding.round_id == audit_round.id)
    if area_id is not None:
        uow.config.area(area_id)  # an unknown area is named
    found = [
        (lesson, status)
        for lesson, status in uow.session.execute(query).tuples()
        if area_id is None or area_id in _areas(lesson)
    ]
    made: dict[int, list[ActionView]] = defaultdict(list)
    for view in _views(uow, _actions_of(uow, [lesson.id for lesson, _ in found])):
        if view.lesson_id is not None:
            made[view.lesson_id].append(view)
    themes = {t.id: t.name for t in uow.config.themes}
    return [
        LessonView(
            id=lesson.id,
            round_id=lesson.round_id,
            round_status=status,
            theme_id=lesson.theme_id,
            theme_name=themes.get(lesson.theme_id, lesson.theme_id),
            text=lesson.text,
            areas=_areas(lesson),
            case_refs=tuple(str(ref.get("ref", "")) for ref in lesson.case_refs or ()),
            agencies=tuple(lesson.agencies or ()),
            recurring=lesson.recurring,
            actions=tuple(made.get(lesson.id, ())),
        )
        for lesson, status in found
    ]


def list_actions(
    uow: UnitOfWork,
    *,
    agency_id: str | None = None,
    status: str | None = None,
    round_id: str | None = None,
    area_id: str | None = None,
    overdue: bool = False,
) -> list[ActionView]:
    """The actions that match, soonest due first; ``overdue``: only those still open past
    their due date."""
    query = select(Action).options(selectinload(Action.updates)).order_by(Action.due_on, Action.id)
    if agency_id is not None:
        query = query.where(Action.agency_id == uow.config.agency(agency_id).id)
    if status is not None:
        query = query.where(Action.status == parse_status(status))
    if round_id is not None:
        query = query.where(Action.round_id == get_round(uow.session, round_id).id)
    if area_id is not None:
        query = query.where(Action.area_id == uow.config.area(area_id).id)
    if overdue:
        query = query.where(Action.status.in_(STILL_OPEN), Action.due_on < uow.today)
    return _views(uow, list(uow.session.scalars(query)))


def show(uow: UnitOfWork, action_id: int) -> ActionView:
    """One action, with its updates in order."""
    return _views(uow, [_action(uow, action_id)])[0]


EXPORT_HEADINGS = (
    "Id",
    "Round",
    "Area",
    "Theme",
    "Action",
    "How success is measured",
    "Owner",
    "Agency",
    "Due",
    "Status",
    "RAG",
    "Last update",
)


def export_table(
    uow: UnitOfWork,
    *,
    kind: str,
    agency_id: str | None = None,
    status: str | None = None,
    round_id: str | None = None,
    area_id: str | None = None,
    overdue: bool = False,
) -> list[list[str]]:
    """The action plan as rows of text for a spreadsheet (``kind``: csv or xlsx), headings
    first. Text that starts like a formula gets a leading apostrophe, so a spreadsheet
    never runs what was typed. The plan names its owners, so the export is recorded."""
    filters = {"agency_id": agency_id, "status": status, "round_id": round_id, "area_id": area_id}
    views = list_actions(uow, **filters, overdue=overdue)
    rows = [list(EXPORT_HEADINGS)]
    for v in views:
        last = v.last_update
        cells = [
            str(v.id),
            v.round_id,
            v.area_name,
            v.theme_name,
            v.text,
            v.measure,
            f"{v.owner_name} <{v.owner_email}>",
            v.agency_name,
            v.due_on.isoformat(),
            status_label(v.status),
            "" if v.status == ActionStatus.DROPPED else v.rag,
            (f"{last.at:%Y-%m-%d}: {last.note}" if last.note else f"{last.at:%Y-%m-%d}")
            if last
            else "",
        ]
        rows.append([spreadsheet_text(cell) for cell in cells])
    uow.record(
        "action_plan_exported",
        "action_plan",
        "all",
        details={
            "format": kind,
            "rows": len(views),
            "agency": agency_id,
            "status": status,
            "round": round_id,
            "area": area_id,
            "overdue": overdue,
        },
    )
    return rows


# --- changing ------------------------------------------------------------------------------


def add(
    uow: UnitOfWork,
    *,
    lesson_id: int,
    text: str,
    measure: str,
    owner: str | Owner | tuple[str, str, str],
    due_on: dt.date | None = None,
) -> ActionView:
    """A new action from a lesson that went forward, open, rated for today.

    1. The lesson must have gone forward, its round be at its briefing or closed.
    2. The owner is a person of the configuration (their name, address and agency from
       it), or a name, address and agency given.
    3. Every problem of the input is named at once; nothing is written unless none.
    4. The round and theme are the lesson's; the area is that of the lesson's cases (of
       cases in two areas, the owner's agency's, else the first).
    """
    lesson = _lesson(uow, lesson_id)
    owner_id, given_owner = _owner(uow, owner)
    today = uow.today
    given = ActionInput(
        text=clean(text),
        measure=clean(measure),
        owner_name=clean(given_owner.name),
        owner_email=given_owner.email.strip(),
        agency_id=given_owner.agency_id.strip(),
        due_on=due_on or default_due(today, uow.config.cadence.actions_due_months),
    )
    problems = check_action(given, uow.config, today)
    if problems:
        raise ActionRejected(problems)
    sync_reference_data(uow)  # the owner, the agency and the area are rows to point at
    rag = rag_of(ActionStatus.OPEN, given.due_on, today, today, uow.config.cadence.action_follow_up)
    action = Action(
        round_id=lesson.round_id,
        finding_id=lesson.id,
        theme_id=lesson.theme_id,
        area_id=_area_for(uow, lesson, given.agency_id),
        text=given.text,
        measure=given.measure,
        owner_id=owner_id,
        owner_name=given.owner_name,
        owner_email=given.owner_email,
        agency_id=given.agency_id,
        due_on=given.due_on,
        status=ActionStatus.OPEN,
        status_reason="",
        rag=rag,
        link_number=0,
        created_at=uow.now,
        created_by=uow.actor,
        updated_at=uow.now,
    )
    uow.session.add(action)
    uow.session.flush()
    uow.record(
        "action_added",
        "action",
        action.id,
        round_id=action.round_id,
        details={
            "lesson": lesson.id,
            "theme": action.theme_id,
            "area": action.area_id,
            "agency": action.agency_id,
            "owner": owner_id,
            "due_on": action.due_on.isoformat(),
            "rag": rag,
        },
    )
    return _views(uow, [action])[0]


def update(
    uow: UnitOfWork,
    action_id: int,
    *,
    note: str,
    status: str | None = None,
    evidence: str = "",
    due_on: dt.date | None = None,
) -> ActionView:
    """The business unit's update of an action: a note, and perhaps a new status (open, in
    progress or done; a done action may only go back to in progress), evidence or a new
    due date (which starts the follow-up again)."""
    action = _action(uow, action_id)
    note, evidence = clean(note), clean(evidence)
    to = parse_status(status) if status else action.status
    if to == ActionStatus.DROPPED:
        raise InvalidState(
            f"Action {action.id} can be dropped only with its reason, by closing it.",
            missing="reason",
        )
    was, new_due = action.status, due_on if due_on is not None else action.due_on
    moved = new_due != action.due_on
    problems = check_update(note, evidence) + (due_problems(new_due, uow.today) if moved else [])
    if problems:
        raise ActionRejected(problems, NOT_RECORDED)
    rag = rag_of(to, new_due, uow.today, uow.today, uow.config.cadence.action_follow_up)
    done = action.record(
        status=to, note=note, by=uow.actor, now=uow.now, rag=rag, evidence=evidence
    )
    if moved:
        action.due_on = new_due
        action.chase_on = None  # the follow-up plans the steps of the new date
    uow.session.flush()
    details: dict[str, Any] = {"update": done.id, "from": was, "to": to, "rag": rag}
    details |= {"evidence": bool(evidence), "due_moved": moved}
    if moved:
        details["due_on"] = new_due.isoformat()
    uow.record("action_updated", "action", action.id, round_id=action.round_id, details=details)
    return _views(uow, [action])[0]


def close(
    uow: UnitOfWork, action_id: int, *, done: bool, reason: str = "", note: str = ""
) -> ActionView:
    """Close an action: done, or dropped (no longer to be done) with its reason. A closed
    action is not followed up; a done one may be reopened by an update (in progress)."""
    action = _action(uow, action_id)
    reason, note = clean(reason), clean(note)
    to = ActionStatus.DONE if done else ActionStatus.DROPPED
    if not done and not reason:
        raise InvalidState(
            f"Action {action.id} can be dropped only with a reason.", missing="reason"
        )
    if done and reason:
        raise AuditRoundError(
            f"A reason is kept only when an action is dropped; action {action.id} is being "
            "closed as done: give a note instead."
        )
    problems = check_update(note, "", reason, note_required=False)
    if problems:
        raise ActionRejected(problems, NOT_RECORDED)
    was = action.status
    rag = rag_of(to, action.due_on, uow.today, uow.today, uow.config.cadence.action_follow_up)
    made = action.record(status=to, note=note, by=uow.actor, now=uow.now, rag=rag, reason=reason)
    uow.session.flush()
    uow.record(
        "action_closed",
        "action",
        action.id,
        round_id=action.round_id,
        details={"update": made.id, "from": was, "to": to},
    )
    return _views(uow, [action])[0]


def refresh_rag(uow: UnitOfWork) -> int:
    """Rate every action still open (or in progress) for today; write, and record, only
    the ratings that changed. How many changed."""
    session, today = uow.session, uow.today
    follow_up, timezone = uow.config.cadence.action_follow_up, uow.timezone
    latest: dict[int, dt.datetime] = {
        action_id: at
        for action_id, at in session.execute(
            select(ActionUpdate.action_id, func.max(ActionUpdate.at))
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(Action.status.in_(STILL_OPEN))
            .group_by(ActionUpdate.action_id)
        ).tuples()
    }
    changed = 0
    for action in session.scalars(
        select(Action).where(Action.status.in_(STILL_OPEN)).order_by(Action.id)
    ):
        last = local_date(latest.get(action.id, action.created_at), timezone)
        rag = rag_of(action.status, action.due_on, last, today, follow_up)
        if rag == action.rag:
            continue
        uow.record(
            "action_rag_changed",
            "action",
            action.id,
            round_id=action.round_id,
            details={"from": action.rag, "to": rag, "on": today.isoformat()},
        )
        action.rag = rag
        changed += 1
    session.flush()
    return changed


# --- shared steps --------------------------------------------------------------------------


def _require_acting(audit_round: AuditRound) -> None:
    if audit_round.status not in ACTING:
        raise InvalidState(
            f"Round {audit_round.id} is {audit_round.status}: its lessons become actions once "
            "its audit day is recorded (at its briefing)."
        )


def _lesson(uow: UnitOfWork, lesson_id: int) -> Finding:
    """The lesson, if it went forward and its round is at its briefing or closed."""
    lesson = uow.session.get(Finding, lesson_id)
    if lesson is None or lesson.kind != FindingKind.LESSON:
        raise NotFound(f"There is no lesson {lesson_id}.")
    if lesson.forward is not True:
        raise InvalidState(
            f"Lesson {lesson_id} did not go forward from the audit day: only the lessons that "
            "went forward become actions."
        )
    _require_acting(get_round(uow.session, lesson.round_id))
    return lesson


def _owner(uow: UnitOfWork, owner: str | Owner | tuple[str, str, str]) -> tuple[str | None, Owner]:
    """The owner's person id (None for one not in the configuration) and details."""
    if not isinstance(owner, str):
        return None, Owner(*owner)
    person = next((p for p in uow.config.auditors if p.id == owner.strip()), None)
    if person is None:
        raise NotFound(
            f"There is no person '{owner}' in the configuration (people.yaml); give the "
            "owner's name, email address and agency instead."
        )
    if not person.active:
        raise InvalidState(
            f"{person.id} is no longer active in the configuration: choose another owner."
        )
    return person.id, Owner(person.name, person.email, person.agency)


def _areas(lesson: Finding) -> tuple[str, ...]:
    """The areas of the lesson's cases, in the order first met."""
    return tuple(dict.fromkeys(str(ref.get("area", "")) for ref in lesson.case_refs or ()))


def _area_for(uow: UnitOfWork, lesson: Finding, agency_id: str) -> str | None:
    """The lesson's area; of cases in several, the first the owner's agency works in, else
    the first."""
    areas = _areas(lesson)
    if len(areas) <= 1:
        return areas[0] if areas else None
    works_in = uow.config.agency(agency_id).areas
    return next((a for a in areas if a in works_in), areas[0])


def _action(uow: UnitOfWork, action_id: int) -> Action:
    action = uow.session.get(Action, action_id)
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


def _actions_of(uow: UnitOfWork, lesson_ids: Sequence[int]) -> list[Action]:
    if not lesson_ids:
        return []
    return list(
        uow.session.scalars(
            select(Action)
            .where(Action.finding_id.in_(list(lesson_ids)))
            .options(selectinload(Action.updates))
            .order_by(Action.id)
        )
    )


def _views(uow: UnitOfWork, actions: Iterable[Action]) -> list[ActionView]:
    """The actions' views, their lessons' text read in one query."""
    actions = list(actions)
    ids = {a.finding_id for a in actions if a.finding_id is not None}
    texts: dict[int, str] = {}
    if ids:
        rows = uow.session.execute(select(Finding.id, Finding.text).where(Finding.id.in_(ids)))
        texts = {finding_id: text for finding_id, text in rows.tuples()}
    today = uow.today
    return [
        view_of(a, uow.config, lesson_text=texts.get(a.finding_id or 0, ""), today=today)
        for a in actions
    ]
