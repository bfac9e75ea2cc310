"""The business unit's dashboard: rounds, a round's progress, one audit and its return.

Pages (any signed-in user; a QA member sees them without the forms that change things):

- ``GET /dashboard``: every round, with its audits counted by state;
- ``GET /dashboard/rounds/{round}``: the round's audits by agency and by auditor, each
  in one state (``audit_core.domain.progress``), with the next step of its chase;
- ``GET /dashboard/rounds/{round}/returns/{assignment}``: one audit and its return
  (each read kept in the audit trail), with the coordinator's actions;
- ``GET /dashboard/rounds/{round}/progress.csv`` and ``.xlsx``: the progress as a
  spreadsheet (:mod:`.dashboard_export`);
- ``/dashboard/rounds/{round}/audit-day``: the audit day's record, read and (for a
  coordinator) recorded (:mod:`.dashboard_audit_day`);
- ``/dashboard/briefings`` and ``/dashboard/briefings/{area}/{scope}``: the learning
  briefings, and one briefing's editor (:mod:`.dashboard_briefings`);
- ``/dashboard/actions``, ``/dashboard/actions/{id}`` and ``/dashboard/lessons``: the
  action plan, one action and its changes, and the lessons actions are made from
  (:mod:`.dashboard_action_plan`, :mod:`.dashboard_action_page`).

The actions (reassign, extend, reopen, send a new link) are POSTs for coordinators
only, each checked against the session's CSRF token (:mod:`.dashboard_actions`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from audit_core.portal.auth import SignedIn, signed_in
from audit_core.portal.dashboard_action_page import router as one_action
from audit_core.portal.dashboard_action_plan import router as action_plan
from audit_core.portal.dashboard_actions import router as actions
from audit_core.portal.dashboard_audit_day import router as audit_day
from audit_core.portal.dashboard_briefings import router as briefings
from audit_core.portal.dashboard_export import router as exports
from audit_core.portal.dashboard_pages import (
    AUDIT_PATH,
    audit_number,
    audit_page,
    round_page,
    rounds_page,
)

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse)
def rounds(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return rounds_page(request, user)


@router.get("/dashboard/rounds/{round_id}", response_class=HTMLResponse)
def progress(request: Request, round_id: str, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return round_page(request, user, round_id)


@router.get(AUDIT_PATH, response_class=HTMLResponse)
def audit(
    request: Request,
    round_id: str,
    assignment_id: str,
    done: str | None = None,
    user: SignedIn = Depends(signed_in),
) -> HTMLResponse:
    return audit_page(request, user, round_id, audit_number(assignment_id), done=done)


router.include_router(actions)
router.include_router(exports)
router.include_router(audit_day)
router.include_router(briefings)
router.include_router(action_plan)
router.include_router(one_action)
