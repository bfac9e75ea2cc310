"""The rules of an action from a lesson: its RAG rating, its default due date, what its
input must be, and the plain view every entry point prints.

* **RAG** (:func:`rag_of`, the one place the rule is written): done or dropped, green
  (a dropped action is shown without a rating, ``-``); open or in progress and past its
  due date, red; still open (not started) and due within ``amber_within`` working days,
  amber; no update (or, without one, no creation) for ``stale_after`` working days,
  amber; otherwise green. Working days skip weekends and the England and Wales bank
  holidays (:mod:`audit_core.domain.workdays`).
* **Due date** (:func:`default_due`): ``cadence.actions_due_months`` calendar months
  after the action is made, moved to the next working day if it falls on a day off.
* **Input** (:func:`check_action`, :func:`check_update`): what the business unit types
  is checked whole, every problem named at once; text that looks like it identifies a
  child is refused without repeating it (:func:`audit_core.domain.privacy.identifying_value`,
  as the audit day's record is checked).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from audit_core.domain.errors import NotFound, Problem, ProblemsError
from audit_core.domain.models import Action, ActionStatus, ActionUpdate
from audit_core.domain.policy import ActionFollowUp, BoardConfig
from audit_core.domain.privacy import identifying_value
from audit_core.domain.workdays import (
    is_working_day,
    local_date,
    next_working_day,
    why_not_working,
    working_days_between,
    zone,
)

RED, AMBER, GREEN = "red", "amber", "green"
NO_RAG = "-"  # what a dropped action shows in place of its rating
MAX_TEXT = 2_000  # characters in an action's text, its measure, a note, evidence, a reason
MAX_NAME = 200
SOURCE = "the action"  # the "file" of an action's input problems
STATUSES: tuple[str, ...] = tuple(s.value for s in ActionStatus)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # as the configuration's addresses


class ActionRejected(ProblemsError):
    headline = "The action was not saved; nothing was written"


# --- RAG and the due date ------------------------------------------------------------------


def rag_of(
    status: str,
    due_on: dt.date,
    last_update_on: dt.date,
    today: dt.date,
    follow_up: ActionFollowUp,
) -> str:
    """The action's RAG rating today: red once past its due date, amber when due soon and
    not started or left without an update too long, green otherwise and once closed."""
    if status in (ActionStatus.DONE, ActionStatus.DROPPED):
        return GREEN
    if today > due_on:
        return RED
    if (
        status == ActionStatus.OPEN
        and working_days_between(today, due_on) <= follow_up.amber_within
    ):
        return AMBER
    if working_days_between(last_update_on, today) >= follow_up.stale_after:
        return AMBER
    return GREEN


def shown_rag(status: str, rag: str) -> str:
    """The rating as lists print it: none (``-``) for a dropped action."""
    return NO_RAG if status == ActionStatus.DROPPED else rag


def default_due(created_on: dt.date, months: int) -> dt.date:
    """The due date an action gets unless one is given: ``months`` calendar months on (the
    last day of a shorter month if need be), then the next working day if that is a day off."""
    due = created_on + relativedelta(months=months)
    return due if is_working_day(due) else next_working_day(due)


def last_update_on(action: Action, timezone: str) -> dt.date:
    """The board's date of the action's latest update, or of its creation if it has none."""
    when = max((u.at for u in action.updates), default=action.created_at)
    return local_date(when, timezone)


def status_label(status: str) -> str:
    """``in_progress`` -> ``in progress``."""
    return status.replace("_", " ")


def parse_status(text: str) -> str:
    """A status as typed (``in progress``, ``In-Progress``, ``in_progress``) -> its value."""
    value = re.sub(r"[\s-]+", "_", text.strip().lower())
    if value not in STATUSES:
        raise NotFound(f"There is no action status '{text}' (known: {', '.join(STATUSES)}).")
    return value


# --- input ----------------------------------------------------------------------------------


def _problem(location: str, reason: str) -> Problem:
    return Problem(SOURCE, location, reason)


def text_problems(location: str, text: str, *, required: str | None = None) -> list[Problem]:
    """Text missing (when ``required`` says what it is for), over its limit, or looking like
    it identifies a child (the value is never repeated)."""
    if not text:
        return [_problem(location, required)] if required else []
    if len(text) > MAX_TEXT:
        return [
            _problem(location, f"must be {MAX_TEXT:,} characters or fewer (it has {len(text):,})")
        ]
    what = identifying_value(text, dates=True)
    if what is not None:
        return [
            _problem(
                location,
                f"this looks like it holds {what}, which could identify a child; write it "
                "without (the value is not repeated here)",
            )
        ]
    return []


def due_problems(due_on: dt.date, today: dt.date) -> list[Problem]:
    """A due date must be today or later, on a working day (the follow-up counts them)."""
    if due_on < today:
        return [_problem("due_on", f"{due_on.isoformat()} is before today ({today.isoformat()})")]
    why = why_not_working(due_on)
    if why is not None:
        return [_problem("due_on", f"{due_on.isoformat()} is {why}: choose a working day")]
    return []


@dataclass(frozen=True)
class ActionInput:
    """What a new action is made of, tidied as typed (``domain.returns.clean``)."""

    text: str
    measure: str
    owner_name: str
    owner_email: str
    agency_id: str
    due_on: dt.date


def check_action(given: ActionInput, config: BoardConfig, today: dt.date) -> list[Problem]:
    """Every problem of a new action's input at once (an empty list: it may be saved)."""
    problems = text_problems("text", given.text, required="the action's text is missing")
    problems += text_problems(
        "measure", given.measure, required="how will success be measured? It is missing"
    )
    if not given.owner_name:
        problems.append(_problem("owner.name", "the owner's name is missing"))
    elif len(given.owner_name) > MAX_NAME:
        problems.append(_problem("owner.name", f"must be {MAX_NAME} characters or fewer"))
    if not _EMAIL.match(given.owner_email) or len(given.owner_email) > 254:
        problems.append(
            _problem("owner.email", "is not an email address (expected name@example.org)")
        )
    agencies = [a.id for a in config.agencies]
    if given.agency_id not in agencies:
        problems.append(
            _problem(
                "agency",
                f"'{given.agency_id}' is not an agency of the configuration "
                f"(known: {', '.join(agencies)})",
            )
        )
    return problems + due_problems(given.due_on, today)


def check_update(
    note: str, evidence: str, reason: str = "", *, note_required: bool = True
) -> list[Problem]:
    """The problems of an update's note, its evidence and (dropping) the reason."""
    problems = text_problems(
        "note", note, required="the note of the update is missing" if note_required else None
    )
    problems += text_problems("evidence", evidence)
    return problems + text_problems("reason", reason)


# --- the view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateView:
    id: int
    at: dt.datetime  # in the board's zone
    by: str
    note: str
    status: str
    rag: str
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "by": self.by,
            "note": self.note,
            "status": self.status,
            "rag": shown_rag(self.status, self.rag),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ActionView:
    """An action as the business unit reads it: plain values, names for ids, times in the
    board's zone, its RAG for today, its updates in order."""

    id: int
    round_id: str
    area_id: str | None
    area_name: str
    theme_id: str
    theme_name: str
    lesson_id: int | None
    lesson_text: str
    text: str
    measure: str
    owner_id: str | None
    owner_name: str
    owner_email: str
    agency_id: str | None
    agency_name: str
    due_on: dt.date
    status: str
    status_reason: str
    rag: str  # for today, by rag_of
    created_at: dt.datetime
    created_by: str
    closed_at: dt.datetime | None
    link_sent_at: dt.datetime | None
    last_update_on: dt.date
    updates: tuple[UpdateView, ...]

    @property
    def shown_rag(self) -> str:
        return shown_rag(self.status, self.rag)

    @property
    def closed(self) -> bool:
        return self.status in (ActionStatus.DONE, ActionStatus.DROPPED)

    @property
    def last_update(self) -> UpdateView | None:
        return self.updates[-1] if self.updates else None

    def overdue(self, today: dt.date) -> bool:
        return not self.closed and today > self.due_on

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round": self.round_id,
            "area": self.area_id,
            "area_name": self.area_name,
            "theme": self.theme_id,
            "theme_name": self.theme_name,
            "lesson": self.lesson_id,
            "lesson_text": self.lesson_text,
            "text": self.text,
            "measure": self.measure,
            "owner": {"id": self.owner_id, "name": self.owner_name, "email": self.owner_email},
            "agency": self.agency_id,
            "agency_name": self.agency_name,
            "due_on": self.due_on.isoformat(),
            "status": self.status,
            "status_reason": self.status_reason,
            "rag": self.shown_rag,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "link_sent_at": self.link_sent_at.isoformat() if self.link_sent_at else None,
            "last_update_on": self.last_update_on.isoformat(),
            "updates": [u.to_json() for u in self.updates],
        }


def view_of(action: Action, config: BoardConfig, *, lesson_text: str, today: dt.date) -> ActionView:
    """The action's view, its RAG worked out for ``today``."""
    timezone = config.board.timezone
    local = zone(timezone)
    areas = {a.id: a.name for a in config.board.areas}
    agencies = {a.id: a.name for a in config.agencies}
    themes = {t.id: t.name for t in config.themes}
    last = last_update_on(action, timezone)
    return ActionView(
        id=action.id,
        round_id=action.round_id,
        area_id=action.area_id,
        area_name=areas.get(action.area_id or "", action.area_id or ""),
        theme_id=action.theme_id,
        theme_name=themes.get(action.theme_id, action.theme_id),
        lesson_id=action.finding_id,
        lesson_text=lesson_text,
        text=action.text,
        measure=action.measure,
        owner_id=action.owner_id,
        owner_name=action.owner_name,
        owner_email=action.owner_email,
        agency_id=action.agency_id,
        agency_name=agencies.get(action.agency_id or "", action.agency_id or ""),
        due_on=action.due_on,
        status=action.status,
        status_reason=action.status_reason,
        rag=rag_of(action.status, action.due_on, last, today, config.cadence.action_follow_up),
        created_at=action.created_at.astimezone(local),
        created_by=action.created_by,
        closed_at=action.closed_at.astimezone(local) if action.closed_at else None,
        link_sent_at=action.link_sent_at.astimezone(local) if action.link_sent_at else None,
        last_update_on=last,
        updates=tuple(_update_view(u, local) for u in action.updates),
    )


def _update_view(update: ActionUpdate, local: dt.tzinfo) -> UpdateView:
    return UpdateView(
        id=update.id,
        at=update.at.astimezone(local),
        by=update.by,
        note=update.note,
        status=update.status,
        rag=update.rag,
        evidence=update.evidence,
    )
