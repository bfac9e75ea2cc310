"""The dashboard's three pages, rendered: every round, one round's progress, one audit.

Each read runs in a unit of work of its own, under the signed-in user's name (the
read of a return is kept in the audit trail, so it commits). A business error
(:class:`~audit_core.domain.errors.AuditRoundError`) becomes a message on the page;
a round or audit that is not there, the plain 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from audit_core.domain.errors import AuditRoundError
from audit_core.domain.progress import STATES
from audit_core.portal.auth import SignedIn
from audit_core.portal.web import application, not_found, page
from audit_core.services.progress import list_rounds, round_progress
from audit_core.services.return_review import read_return

AUDIT_PATH = "/dashboard/rounds/{round_id}/returns/{assignment_id}"

# The one-line confirmations after a change (POST, then redirect, then this page).
DONE = {
    "reassigned": "The audit was given to the new auditor: their task is on its way and the "
    "old link no longer works.",
    "extended": "The deadline was moved: the auditor is told the new date.",
    "reopened": "The return was reopened: the auditor is sent a new link to change it.",
    "resent": "A new link is on its way to the auditor: the old link no longer works.",
    "unchanged": "Nothing changed: it was so already.",
}


def day(value: dt.date | dt.datetime | None) -> str:
    """A date as the pages show it: Monday 30 March 2026 (a time too, for a moment)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%A} {value.day} {value:%B %Y, %H:%M}"
    return f"{value:%A} {value.day} {value:%B %Y}"


def _page(
    request: Request, user: SignedIn, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    shared = {"user": user, "csrf_token": user.csrf_token, "day": day, "states": STATES}
    return page(request, name, {**shared, **context}, status_code=status)


def rounds_page(request: Request, user: SignedIn) -> HTMLResponse:
    with application(request).unit_of_work(actor=user.actor) as uow:
        rounds = list_rounds(uow)
    return _page(request, user, "dashboard_rounds.html.j2", {"title": "Rounds", "rounds": rounds})


def round_page(request: Request, user: SignedIn, round_id: str) -> HTMLResponse:
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            progress = round_progress(uow, round_id)
    except AuditRoundError:  # no such round, or not a round's name
        return not_found(request)
    title = f"Round {progress.round_id}: progress"
    return _page(request, user, "dashboard_round.html.j2", {"title": title, "progress": progress})


def audit_page(
    request: Request,
    user: SignedIn,
    round_id: str,
    assignment_id: int | None,
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """One audit and its return; with a confirmation, or with what stopped a change."""
    if assignment_id is None:
        return not_found(request)
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            view = read_return(uow, round_id, assignment_id)
    except AuditRoundError:  # no such round or audit, or not a round's name
        return not_found(request)
    line = view.line
    context = {
        "title": f"Case {line.case_ref}: {line.agency_name}",
        "view": view,
        "line": line,
        "done": DONE.get(done or ""),
        "error": error,
        "errors": [error] if error else [],
    }
    return _page(request, user, "dashboard_return.html.j2", context, status)


def audit_number(text: str) -> int | None:
    """An audit's number from its address; None for anything that is not one."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def audit_url(round_id: str, assignment_id: int) -> str:
    """The address of one audit's page."""
    return f"/dashboard/rounds/{round_id}/returns/{assignment_id}"
