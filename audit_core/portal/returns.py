"""``/return/{token}``: the auditor's form, reached from the link in their task email.

GET shows the task and the saved answers (read-only once submitted, or after the
deadline lock). POST with ``intent=save`` keeps a draft; ``intent=submit`` checks
and submits. ``/return/{token}/decline`` declines the task with a reason.

A token that opens nothing gets the plain 404 page, and counts against the client's
allowance of wrong links (:class:`~audit_core.portal.security.Throttle`); a client
over it gets 429 before any look-up. The token is the only secret the form needs:
it is 256 bits, only its hash is stored, and it never appears in the access log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from audit_core.bootstrap import App
from audit_core.domain.errors import AuditRoundError
from audit_core.domain.returns import ENTRIES
from audit_core.portal.web import (
    application,
    link_throttled,
    page,
    too_many_links,
    unknown_link,
)
from audit_core.services import returns
from audit_core.services.returns import Outcome, TaskView

router = APIRouter()
log = logging.getLogger(__name__)
LINK = "portal:link"  # until the link names its auditor (services.returns)
DISPATCH_NOW = 20  # messages sent at once after a concern is raised


def _fields(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _form_page(
    request: Request, token: str, view: TaskView, outcome: Outcome | None = None
) -> HTMLResponse:
    problems = outcome.problems if outcome else ()
    context: dict[str, Any] = {
        "title": f"Case audit {view.case_ref}",
        "view": view,
        "action": f"/return/{token}",
        "decline": f"/return/{token}/decline",
        "entries": range(1, ENTRIES + 1),
        "errors": problems,
        "error_for": {p.field: p.message for p in problems},
        "saved": bool(outcome and outcome.saved and not outcome.submitted),
        "alerted": bool(outcome and outcome.concern_alerted),
    }
    return page(request, "return_form.html.j2", context, status_code=422 if problems else 200)


def _opened(request: Request, token: str) -> TaskView | Response:
    """The task the link opens, or the answer for a client over its allowance or a bad link."""
    if link_throttled(request):
        return too_many_links(request)
    with application(request).unit_of_work(actor=LINK) as uow:
        view = returns.open_task(uow, token)
    return unknown_link(request) if view is None else view


@router.get("/return/{token}", response_class=HTMLResponse)
def show(request: Request, token: str) -> Response:
    view = _opened(request, token)
    if isinstance(view, Response):
        return view
    if view.state == "submitted":
        return page(request, "return_done.html.j2", {"title": "Return submitted", "view": view})
    return _form_page(request, token, view)


def _send_now(app: App) -> None:
    """Send an immediate concern's alert at once, rather than at the next dispatch run."""
    try:
        app.dispatch(limit=DISPATCH_NOW)
    except Exception:  # the scheduler's next run sends it; the auditor's page is unaffected
        log.warning("the concern alert waits in the outbox for the next dispatch run")


@router.post("/return/{token}", response_class=HTMLResponse)
async def take(request: Request, token: str, background: BackgroundTasks) -> Response:
    if link_throttled(request):
        return too_many_links(request)
    fields = _fields(await request.form())  # the body is read here; the rest off the loop
    return await run_in_threadpool(_take, request, token, fields, background)


def _take(
    request: Request, token: str, fields: dict[str, str], background: BackgroundTasks
) -> Response:
    submitting = fields.get("intent") == "submit"
    with application(request).unit_of_work(mail=True, actor=LINK) as uow:
        outcome = (returns.submit if submitting else returns.save_draft)(uow, token, fields)
    if outcome is None:
        return unknown_link(request)
    if outcome.concern_alerted:
        background.add_task(_send_now, application(request))
    if outcome.submitted:
        return RedirectResponse(f"/return/{token}", status_code=303, background=background)
    response = _form_page(request, token, outcome.view, outcome)
    response.background = background
    return response


@router.get("/return/{token}/decline", response_class=HTMLResponse)
def decline_form(request: Request, token: str) -> Response:
    view = _opened(request, token)
    if isinstance(view, Response):
        return view
    return _decline_page(request, token, view, "", None)


def _decline_page(
    request: Request, token: str, view: TaskView, reason: str, error: str | None
) -> HTMLResponse:
    context = {
        "title": f"Decline the audit of {view.case_ref}",
        "view": view,
        "action": f"/return/{token}/decline",
        "back": f"/return/{token}",
        "reason": reason,
        "errors": [error] if error else [],
        "error": error,
    }
    return page(request, "return_decline.html.j2", context, status_code=422 if error else 200)


@router.post("/return/{token}/decline", response_class=HTMLResponse)
async def decline(request: Request, token: str) -> Response:
    if link_throttled(request):
        return too_many_links(request)
    reason = _fields(await request.form()).get("reason", "")
    return await run_in_threadpool(_decline, request, token, reason)


def _decline(request: Request, token: str, reason: str) -> Response:
    app = application(request)
    try:
        with app.unit_of_work(mail=True, actor=LINK) as uow:
            change = returns.decline_task(uow, token, reason)
    except AuditRoundError as error:
        with app.unit_of_work(actor=LINK) as uow:
            view = returns.open_task(uow, token)
        if view is None:
            return unknown_link(request)
        message = "Say why you are declining." if not reason.strip() else str(error)
        return _decline_page(request, token, view, reason, message)
    if change is None:
        return unknown_link(request)
    return page(request, "return_declined.html.j2", {"title": "Audit declined"})
