"""``/action/{token}``: an action's owner records progress, from the link in their emails.

GET shows the action (its text, theme, the lesson and round it came from, the owner's
agency, due date, status, RAG and how success is measured) and every update so far, in
order. POST records the owner's update: a note, the status (open, in progress, done) and
evidence (a web link or a short text; no files). Problems are shown beside their fields,
keeping what was typed; a recorded update comes back to the page with a confirmation. A
closed action (done or dropped) is read-only.

As on the return form, the link's token is the only secret (so the form needs no CSRF
token), a token that opens nothing gets the plain 404 page and counts against the
client's allowance of wrong links (shared with the return form's), a client over it gets
429 before any look-up, and the access log never shows the token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from audit_core.portal.web import (
    application,
    link_throttled,
    page,
    too_many_links,
    unknown_link,
)
from audit_core.services import action_links
from audit_core.services.action_links import OwnerView, Progress

router = APIRouter()
LINK = "portal:link"  # until the link names its action (services.action_links)


def _page(
    request: Request,
    token: str,
    view: OwnerView,
    progress: Progress | None = None,
    *,
    recorded: bool = False,
) -> HTMLResponse:
    problems = progress.problems if progress else ()
    action = view.action
    typed = dict(progress.typed) if progress and progress.problems else {}
    context: dict[str, Any] = {
        "title": f"Action {action.id}",
        "view": view,
        "action": action,
        "form_action": f"/action/{token}",
        "errors": problems,
        "error_for": {p.field: p.message for p in problems},
        "typed": {
            "note": typed.get("note", ""),
            "status": typed.get("status", action.status),
            "evidence": typed.get("evidence", ""),
        },
        "recorded": recorded,
    }
    return page(request, "action_page.html.j2", context, status_code=422 if problems else 200)


@router.get("/action/{token}", response_class=HTMLResponse)
def show(request: Request, token: str, recorded: str | None = None) -> Response:
    if link_throttled(request):
        return too_many_links(request)
    with application(request).unit_of_work(actor=LINK) as uow:
        view = action_links.open_action(uow, token)
    if view is None:
        return unknown_link(request)
    return _page(request, token, view, recorded=recorded == "1")


@router.post("/action/{token}", response_class=HTMLResponse)
async def record(request: Request, token: str) -> Response:
    if link_throttled(request):
        return too_many_links(request)
    form = await request.form()  # the body is read here; the rest off the event loop
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_record, request, token, fields)


def _record(request: Request, token: str, fields: dict[str, str]) -> Response:
    with application(request).unit_of_work(actor=LINK) as uow:
        progress = action_links.record_progress(uow, token, fields)
    if progress is None:
        return unknown_link(request)
    if progress.recorded:
        return RedirectResponse(f"/action/{token}?recorded=1", status_code=303)
    return _page(request, token, progress.view, progress)
