"""One action on the dashboard, and the coordinator's changes to the action plan.

- ``GET /dashboard/actions/{id}`` (any signed-in user): the action, its lesson, owner,
  due date, status and RAG, and every update of it in order;
- ``GET /dashboard/actions/new?lesson=ID``: the lesson, and the form of a new action
  from it: what will be done, how success will be measured, the owner (a person of
  ``people.yaml``, or a name, address and agency typed) and the due date (by default
  ``cadence.actions_due_months`` on, a working day, as the use case sets it);
- ``POST /dashboard/actions/new``: :meth:`audit_core.bootstrap.App.add_action`, which
  makes the action and emails its owner their secure link, as ``auditround actions add``
  does;
- ``POST /dashboard/actions/{id}/update``: a note, and perhaps a new status, evidence or
  due date (:func:`audit_core.services.actions.update`);
- ``POST /dashboard/actions/{id}/close``: done, or dropped with its reason
  (:func:`audit_core.services.actions.close`);
- ``POST /dashboard/actions/{id}/resend``: a new link to the owner, the old one retired
  (:func:`audit_core.services.action_links.send_link`), sent as the first one is.

The new-action form and every POST are for coordinators only (a QA member gets 403),
and each POST checks the session's CSRF token. A change runs in one transaction under
the coordinator's name, then redirects to the action's page with a one-line
confirmation. Values the action cannot take are listed at the top, each linked to its
field and shown beside it, with everything typed kept; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from audit_core.domain.actions import STATUSES, ActionView, default_due, status_label
from audit_core.domain.errors import AuditRoundError, ProblemsError
from audit_core.domain.models import ACTION_STEPS, ActionStatus
from audit_core.portal.auth import SignedIn, checked_form, coordinator, signed_in
from audit_core.portal.dashboard_action_plan import PLAN_PATH, Pointer, action_url, context
from audit_core.portal.dashboard_pages import audit_number
from audit_core.portal.web import application, not_found, page
from audit_core.services import actions
from audit_core.services.action_links import OwnerView, send_link
from audit_core.services.unit_of_work import UnitOfWork

NEW_PATH = PLAN_PATH + "/new"
ACTION_PATH = PLAN_PATH + "/{action_id}"
MOST_FIELDS = 50  # the largest of these forms has ten
DONE = {
    "added": "The action is added: its owner is emailed a link to record progress on it.",
    "added-waiting": "The action is added. The email with its owner's link could not go yet: "
    "it waits in the outbox, and the dispatcher sends it.",
    "updated": "The update is kept.",
    "done": "The action is closed as done: it is no longer followed up.",
    "dropped": "The action is dropped: the reason is kept, and it is no longer followed up.",
    "resent": "A new link is on its way to the owner: the old link no longer works.",
    "resent-waiting": "A new link is made: the old one no longer works. Its email could not "
    "go yet: it waits in the outbox, and the dispatcher sends it.",
}
# Where a problem's key path is shown on each form: the field's id.
NEW_FIELDS = {
    "text": "text",
    "measure": "measure",
    "owner.name": "owner-name",
    "owner.email": "owner-email",
    "agency": "owner-agency",
    "due_on": "due-on",
}
NEW_LABELS = {
    "text": "What will be done",
    "measure": "Measure of success",
    "owner-name": "Owner's name",
    "owner-email": "Owner's email address",
    "owner-agency": "Owner's agency",
    "due-on": "Due date",
    "owner": "Owner",
    "lesson": "The lesson",
}
UPDATE_LABELS = {
    "note": ("update-note", "Update, what has been done"),
    "status": ("update-status", "Update, status"),
    "evidence": ("update-evidence", "Update, evidence"),
    "due_on": ("update-due-on", "Update, new due date"),
}
CLOSE_LABELS = {
    "outcome": ("close-outcome-done", "Close, how it ends"),
    "reason": ("close-reason", "Close, why it is dropped"),
    "note": ("close-note", "Close, a last note"),
}

router = APIRouter()


# --- the action's page -------------------------------------------------------------------------


def show_action(
    request: Request,
    user: SignedIn,
    action_id: int | None,
    *,
    done: str = "",
    form: str = "",
    typed: Mapping[str, str] | None = None,
    errors: list[Pointer] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    """One action and its updates; with a confirmation, or with a form's problems and what
    was typed in it (``form`` says which: update, close or resend)."""
    if action_id is None:
        return not_found(request)
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            view = actions.show(uow, action_id)
            today = uow.today
    except AuditRoundError:  # no such action
        return not_found(request)
    errors = errors or []
    shown = context(
        user,
        title=f"Action {view.id}",
        action=view,
        overdue=view.overdue(today),
        done=DONE.get(done, ""),
        form=form,
        typed=typed or {},
        errors=errors,
        error=error,
        error_for={p.field: p.reason for p in errors},
        statuses=_update_statuses(view.status),
        base=action_url(view.id),
        is_link=OwnerView.is_link,
    )
    return page(request, "dashboard_action.html.j2", shown, status_code=status)


def _update_statuses(status: str) -> list[tuple[str, str]]:
    """The statuses an update may leave the action in (dropping is closing, with a reason)."""
    return [
        (s, status_label(s).capitalize())
        for s in STATUSES
        if s in ACTION_STEPS[status] and s != ActionStatus.DROPPED
    ]


async def _fields(request: Request, user: SignedIn) -> dict[str, str]:
    return await checked_form(request, user, MOST_FIELDS)


def _reason(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _date(text: str, field: str, label: str) -> tuple[dt.date | None, list[Pointer]]:
    """A date as the form sends it (2026-09-30), None if empty, or the problem with it."""
    if not text.strip():
        return None, []
    try:
        return dt.date.fromisoformat(text.strip()), []
    except ValueError:
        reason = "Enter the date as year, month and day, for example 2026-09-30."
        return None, [Pointer(field, f"{label}: {reason}", reason)]


def pointers(error: ProblemsError, places: Mapping[str, tuple[str, str]]) -> list[Pointer]:
    """The use case's problems as pointers to the form's fields (key path -> id, label)."""
    found = []
    for problem in error.problems:
        field, label = places.get(problem.location, next(iter(places.values())))
        found.append(Pointer(field, f"{label}: {problem.reason}.", _reason(problem.reason)))
    return found


# --- a new action ------------------------------------------------------------------------------


def _new_form(
    request: Request,
    user: SignedIn,
    lesson_text: str,
    *,
    typed: Mapping[str, str] | None = None,
    errors: list[Pointer] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The lesson and the form of a new action from it (404 for a lesson not to act on)."""
    number = audit_number(lesson_text)
    app = application(request)
    with app.unit_of_work(actor=user.actor) as uow:
        found = [lesson for lesson in actions.lessons_to_act_on(uow) if lesson.id == number]
        config, today = uow.config, uow.today
    if not found:
        return not_found(request)
    due = default_due(today, config.cadence.actions_due_months)
    people: dict[str, list[tuple[str, str]]] = {}
    for person in config.auditors:
        if person.active:
            people.setdefault(person.agency, []).append((person.id, person.name))
    agencies = [(a.id, a.name) for a in config.agencies]
    names = dict(agencies)
    errors = errors or []
    shown = context(
        user,
        title="A new action from a lesson",
        lesson=found[0],
        typed={"due_on": due.isoformat(), **(typed or {})},
        default_due=due,
        months=config.cadence.actions_due_months,
        people=[(names.get(agency, agency), who) for agency, who in people.items()],
        agencies=agencies,
        area_names={a.id: a.name for a in config.board.areas},
        errors=errors,
        error=error,
        error_for={p.field: p.reason for p in errors},
        action=NEW_PATH,
    )
    return page(request, "dashboard_action_new.html.j2", shown, status_code=status)


@router.get(NEW_PATH, response_class=HTMLResponse)
def new_action(
    request: Request, lesson: str = "", user: SignedIn = Depends(coordinator)
) -> HTMLResponse:
    return _new_form(request, user, lesson)


@router.post(NEW_PATH, response_class=HTMLResponse)
async def add_action(request: Request, user: SignedIn = Depends(coordinator)) -> Response:
    fields = await _fields(request, user)
    return await run_in_threadpool(_add, request, user, fields)


def _owner(fields: Mapping[str, str]) -> str | tuple[str, str, str]:
    """A person of the configuration by id, or the name, address and agency typed."""
    chosen = fields.get("owner", "").strip()
    if chosen:
        return chosen
    return (
        fields.get("owner_name", ""),
        fields.get("owner_email", ""),
        fields.get("owner_agency", ""),
    )


def _add(request: Request, user: SignedIn, fields: dict[str, str]) -> Response:
    lesson = fields.get("lesson", "")
    number = audit_number(lesson)
    due_on, problems = _date(fields.get("due_on", ""), "due-on", NEW_LABELS["due-on"])
    if number is None:
        return not_found(request)
    if problems:
        return _new_form(request, user, lesson, typed=fields, errors=problems, status=422)
    try:
        added, sent = application(request).add_action(
            lesson_id=number,
            text=fields.get("text", ""),
            measure=fields.get("measure", ""),
            owner=_owner(fields),
            due_on=due_on,
            actor=user.actor,
        )
    except ProblemsError as exc:
        places = {key: (field, NEW_LABELS[field]) for key, field in NEW_FIELDS.items()}
        errors = pointers(exc, places)
        return _new_form(request, user, lesson, typed=fields, errors=errors, status=422)
    except AuditRoundError as exc:  # an owner not in the configuration; the mail settings
        return _new_form(request, user, lesson, typed=fields, error=str(exc), status=409)
    outcome = "added-waiting" if sent.stopped or sent.retrying else "added"
    return RedirectResponse(f"{action_url(added.id)}?done={outcome}", status_code=303)


@router.get(ACTION_PATH, response_class=HTMLResponse)
def action_page(
    request: Request, action_id: str, done: str = "", user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    return show_action(request, user, audit_number(action_id), done=done)


# --- updating, closing, a new link -------------------------------------------------------------

Change = Callable[[UnitOfWork, int], ActionView]


def _apply(
    request: Request,
    user: SignedIn,
    action_id: str,
    change: Change,
    *,
    done: str,
    form: str,
    fields: Mapping[str, str],
    places: Mapping[str, tuple[str, str]],
    problems: list[Pointer] | None = None,
) -> Response:
    """Run the change in one transaction, then redirect to the action's page; or show the
    page again, the form as typed, with what stopped it."""
    number = audit_number(action_id)
    if number is None:
        return not_found(request)
    again: dict[str, Any] = {"form": form, "typed": fields}
    if problems:
        return show_action(request, user, number, errors=problems, status=422, **again)
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            change(uow, number)
    except ProblemsError as exc:
        return show_action(request, user, number, errors=pointers(exc, places), status=422, **again)
    except AuditRoundError as exc:  # no such action; a step its status does not allow
        return show_action(request, user, number, error=str(exc), status=409, **again)
    return RedirectResponse(f"{action_url(number)}?done={done}", status_code=303)


@router.post(ACTION_PATH + "/update", response_class=HTMLResponse)
async def update_action(
    request: Request, action_id: str, user: SignedIn = Depends(coordinator)
) -> Response:
    fields = await _fields(request, user)
    return await run_in_threadpool(_update, request, user, action_id, fields)


def _update(request: Request, user: SignedIn, action_id: str, fields: dict[str, str]) -> Response:
    due_on, problems = _date(fields.get("due_on", ""), *UPDATE_LABELS["due_on"])

    def change(uow: UnitOfWork, number: int) -> ActionView:
        return actions.update(
            uow,
            number,
            note=fields.get("note", ""),
            status=fields.get("status", "") or None,
            evidence=fields.get("evidence", ""),
            due_on=due_on,
        )

    return _apply(
        request,
        user,
        action_id,
        change,
        done="updated",
        form="update",
        fields=fields,
        places=UPDATE_LABELS,
        problems=problems,
    )


@router.post(ACTION_PATH + "/close", response_class=HTMLResponse)
async def close_action(
    request: Request, action_id: str, user: SignedIn = Depends(coordinator)
) -> Response:
    fields = await _fields(request, user)
    return await run_in_threadpool(_close, request, user, action_id, fields)


def _close(request: Request, user: SignedIn, action_id: str, fields: dict[str, str]) -> Response:
    outcome = fields.get("outcome", "")
    problems = []
    if outcome not in ("done", "dropped"):
        reason = "Choose how the action ends: done, or dropped with its reason."
        problems.append(Pointer("close-outcome-done", f"Close: {reason}", reason))
    elif outcome == "dropped" and not fields.get("reason", "").strip():
        reason = "Give the reason it is dropped: it is kept with the action."
        problems.append(Pointer("close-reason", f"Close, why it is dropped: {reason}", reason))

    def change(uow: UnitOfWork, number: int) -> ActionView:
        done = outcome == "done"
        return actions.close(
            uow,
            number,
            done=done,
            reason="" if done else fields.get("reason", ""),
            note=fields.get("note", ""),
        )

    return _apply(
        request,
        user,
        action_id,
        change,
        done=outcome,
        form="close",
        fields=fields,
        places=CLOSE_LABELS,
        problems=problems,
    )


@router.post(ACTION_PATH + "/resend", response_class=HTMLResponse)
async def resend_link(
    request: Request, action_id: str, user: SignedIn = Depends(coordinator)
) -> Response:
    fields = await _fields(request, user)
    return await run_in_threadpool(_resend, request, user, action_id, fields)


def _resend(request: Request, user: SignedIn, action_id: str, fields: dict[str, str]) -> Response:
    """A new link to the owner, queued and then sent, as adding an action sends the first."""
    number = audit_number(action_id)
    if number is None:
        return not_found(request)

    def change(uow: UnitOfWork) -> None:
        send_link(uow, number)

    try:
        _, sent = application(request).change_then_send(change, actor=user.actor)
    except AuditRoundError as exc:  # no such action; a closed one; the mail settings
        return show_action(request, user, number, form="resend", error=str(exc), status=409)
    outcome = "resent-waiting" if sent.stopped or sent.retrying else "resent"
    return RedirectResponse(f"{action_url(number)}?done={outcome}", status_code=303)
