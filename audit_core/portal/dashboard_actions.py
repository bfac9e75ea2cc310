"""The coordinator's changes to one audit, from its page: reassign, extend, reopen, resend.

Each is a POST of a plain form, for coordinators only (a QA member gets 403), whose
hidden ``csrf_token`` must be the session's. It runs one use case in one transaction
under the coordinator's name, queuing its emails in the outbox (the dispatcher sends
them), then redirects to the audit's page with a one-line confirmation (POST, redirect,
GET: reloading the page does not post again). A business error is shown on the page
with the form, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from audit_core.domain.errors import AuditRoundError
from audit_core.portal.auth import SignedIn, check_csrf, coordinator
from audit_core.portal.dashboard_pages import (
    AUDIT_PATH,
    audit_number,
    audit_page,
    audit_url,
)
from audit_core.portal.web import application, not_found
from audit_core.services.deadlines import extend as extend_deadline
from audit_core.services.links import resend_link
from audit_core.services.return_review import find_audit, reopen_return
from audit_core.services.round_changes import reassign as reassign_audit
from audit_core.services.unit_of_work import UnitOfWork

router = APIRouter()

# A change to one audit (its number given): run in the unit of work, it gives the round's
# id and whether anything changed.
Change = Callable[[UnitOfWork, int], tuple[str, bool]]


def _apply(
    request: Request,
    user: SignedIn,
    where: tuple[str, str],
    csrf_token: str,
    change: Change,
    done: str,
) -> Response:
    """Check the form's token, run the change, then redirect to the audit's page (or show
    the page again with the reason nothing changed)."""
    check_csrf(user, csrf_token)
    round_id, number = where[0], audit_number(where[1])
    if number is None:
        return not_found(request)
    try:
        with application(request).unit_of_work(mail=True, actor=user.actor) as uow:
            canonical, changed = change(uow, number)
    except AuditRoundError as exc:
        return audit_page(request, user, round_id, number, error=str(exc), status=400)
    outcome = done if changed else "unchanged"
    return RedirectResponse(f"{audit_url(canonical, number)}?done={outcome}", 303)


@router.post(AUDIT_PATH + "/reassign")
def reassign(
    request: Request,
    round_id: str,
    assignment_id: str,
    auditor_id: str = Form(""),
    csrf_token: str = Form(""),
    user: SignedIn = Depends(coordinator),
) -> Response:
    def change(uow: UnitOfWork, number: int) -> tuple[str, bool]:
        if not auditor_id.strip():
            raise AuditRoundError("Choose the auditor to give the audit to.", missing="auditor")
        audit_round, assignment = find_audit(uow, round_id, number)
        round_case = assignment.round_case
        result = reassign_audit(
            uow,
            round_id=audit_round.id,
            case_ref=round_case.case.reference,
            agency_id=assignment.agency_id,
            auditor_id=auditor_id.strip(),
            area_id=round_case.area_id,
        )
        return audit_round.id, result.changed

    where = (round_id, assignment_id)
    return _apply(request, user, where, csrf_token, change, "reassigned")


def _new_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise AuditRoundError(
            "Enter the new deadline as a date, for example 2026-04-07.", missing="date"
        ) from None


@router.post(AUDIT_PATH + "/extend")
def extend(
    request: Request,
    round_id: str,
    assignment_id: str,
    due_on: str = Form(""),
    reason: str = Form(""),
    csrf_token: str = Form(""),
    user: SignedIn = Depends(coordinator),
) -> Response:
    def change(uow: UnitOfWork, number: int) -> tuple[str, bool]:
        to = _new_date(due_on)
        audit_round, assignment = find_audit(uow, round_id, number)
        round_case = assignment.round_case
        result = extend_deadline(
            uow,
            round_id=audit_round.id,
            to=to,
            reason=reason,
            case_ref=round_case.case.reference,
            agency_id=assignment.agency_id,
            area_id=round_case.area_id,
        )
        return audit_round.id, result.changed

    where = (round_id, assignment_id)
    return _apply(request, user, where, csrf_token, change, "extended")


@router.post(AUDIT_PATH + "/reopen")
def reopen(
    request: Request,
    round_id: str,
    assignment_id: str,
    reason: str = Form(""),
    csrf_token: str = Form(""),
    user: SignedIn = Depends(coordinator),
) -> Response:
    def change(uow: UnitOfWork, number: int) -> tuple[str, bool]:
        done = reopen_return(uow, round_id=round_id, assignment_id=number, reason=reason)
        return done.round_id, True

    where = (round_id, assignment_id)
    return _apply(request, user, where, csrf_token, change, "reopened")


@router.post(AUDIT_PATH + "/resend")
def resend(
    request: Request,
    round_id: str,
    assignment_id: str,
    csrf_token: str = Form(""),
    user: SignedIn = Depends(coordinator),
) -> Response:
    def change(uow: UnitOfWork, number: int) -> tuple[str, bool]:
        done = resend_link(uow, round_id=round_id, assignment_id=number)
        return done.round_id, True

    where = (round_id, assignment_id)
    return _apply(request, user, where, csrf_token, change, "resent")
