"""The business unit's action plan on the dashboard, and the lessons it comes from.

Pages (any signed-in user: a coordinator, or a QA member, who reads without the forms):

- ``GET /dashboard/actions``: the action plan, soonest due first
  (:func:`audit_core.services.actions.list_actions`), filtered by agency, status, round,
  area and overdue with a plain GET form; each action's theme, round, owner and agency,
  due date, status, RAG (in words and in colour) and last update;
- ``GET /dashboard/action-plan.csv`` and ``.xlsx``: the plan, with the page's filters, as
  a spreadsheet (:func:`audit_core.services.actions.export_table`: every cell text, none
  that a spreadsheet would run; the export is kept in the audit trail);
- ``GET /dashboard/lessons``: the lessons that went forward from the audit day
  (:func:`audit_core.services.actions.lessons_to_act_on`), of a round or an area if
  asked, each with the actions made from it and, for a coordinator, a link to add one.

One action's page and the coordinator's changes are :mod:`.dashboard_action_page`. A filter
the page cannot take (an agency not in the configuration) is listed at the top, linked to
its field and shown beside it; the page then shows the plan without that filter.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from audit_core.bootstrap import progress_workbook
from audit_core.domain.actions import STATUSES, ActionView, status_label
from audit_core.domain.policy import BoardConfig
from audit_core.portal.auth import SignedIn, signed_in
from audit_core.portal.dashboard_audit_day import field_id
from audit_core.portal.dashboard_pages import day
from audit_core.portal.web import application, page
from audit_core.services import actions

PLAN_PATH = "/dashboard/actions"
EXPORT_PATH = "/dashboard/action-plan"  # .csv, .xlsx
LESSONS_PATH = "/dashboard/lessons"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTERS = ("agency", "status", "round", "area", "overdue")

router = APIRouter()


def action_url(action_id: int) -> str:
    """The address of one action's page."""
    return f"{PLAN_PATH}/{action_id}"


def rag_label(view: ActionView) -> str:
    """The RAG as words (a dropped action has none: ``-``)."""
    shown = view.shown_rag
    return shown.capitalize() if shown in ("red", "amber", "green") else shown


def short_day(value: dt.date) -> str:
    """A date as the tables show it: Wed 2 Sep 2026."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def context(user: SignedIn, **more: Any) -> dict[str, Any]:
    """What every action page's template is given."""
    shared = {
        "user": user,
        "csrf_token": user.csrf_token,
        "day": day,
        "short_day": short_day,
        "fid": field_id,
        "status_label": status_label,
        "rag_label": rag_label,
        "action_url": action_url,
    }
    return {**shared, **more}


# --- the filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The plan's filters as asked (empty: any), each one checked against its choices."""

    agency: str = ""
    status: str = ""
    round: str = ""
    area: str = ""
    overdue: bool = False

    def query(self) -> str:
        """The filters as a query string (the export links keep them)."""
        given = {name: getattr(self, name) for name in FILTERS[:4] if getattr(self, name)}
        if self.overdue:
            given["overdue"] = "yes"
        return urlencode(given)

    @property
    def any(self) -> bool:
        return bool(self.query())


@dataclass(frozen=True)
class Choices:
    """What each filter may be: (value, label) pairs."""

    agencies: tuple[tuple[str, str], ...]
    statuses: tuple[tuple[str, str], ...]
    rounds: tuple[tuple[str, str], ...]
    areas: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pointer:
    """A line of the error summary, linked to its field, and the reason beside it."""

    field: str
    message: str
    reason: str


def unknown(field: str, what: str) -> Pointer:
    """The pointer of a filter given a value that is not one of its choices."""
    reason = f"{what}: choose one from the list."
    return Pointer(field, reason, reason)


def _choices(config: BoardConfig, every: list[ActionView]) -> Choices:
    rounds = sorted({v.round_id for v in every}, reverse=True)
    return Choices(
        agencies=tuple((a.id, a.name) for a in config.agencies),
        statuses=tuple((s, status_label(s).capitalize()) for s in STATUSES),
        rounds=tuple((r, r) for r in rounds),
        areas=tuple((a.id, a.name) for a in config.board.areas),
    )


def read_filters(asked: Mapping[str, str], choices: Choices) -> tuple[Filters, list[Pointer]]:
    """The filters the form asked for, and a pointer for each value that is not a choice
    (that filter is then left out)."""
    allowed = {
        "agency": (choices.agencies, "agency"),
        "status": (choices.statuses, "status"),
        "round": (choices.rounds, "round with actions"),
        "area": (choices.areas, "area"),
    }
    kept: dict[str, str] = {}
    problems = []
    for name, (values, noun) in allowed.items():
        value = asked.get(name, "").strip()
        if value and value not in {v for v, _ in values}:
            problems.append(unknown(f"filter-{name}", f"There is no {noun} '{value[:60]}'"))
        elif value:
            kept[name] = value
    overdue = asked.get("overdue", "") in ("yes", "on", "1", "true")
    return Filters(**kept, overdue=overdue), problems


@dataclass(frozen=True)
class Plan:
    """What the plan's page shows: the filters as read, their problems, the choices, the
    actions that match and today (the overdue are those still open past their due date)."""

    filters: Filters
    problems: list[Pointer]
    choices: Choices
    actions: list[ActionView]
    today: dt.date


def _plan(request: Request, user: SignedIn) -> Plan:
    with application(request).unit_of_work(actor=user.actor) as uow:
        choices = _choices(uow.config, actions.list_actions(uow))
        filters, problems = read_filters(request.query_params, choices)
        found = actions.list_actions(
            uow,
            agency_id=filters.agency or None,
            status=filters.status or None,
            round_id=filters.round or None,
            area_id=filters.area or None,
            overdue=filters.overdue,
        )
        return Plan(filters, problems, choices, found, uow.today)


# --- the pages --------------------------------------------------------------------------------


@router.get(PLAN_PATH, response_class=HTMLResponse)
def plan(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    shown = _plan(request, user)
    errors = shown.problems
    body = context(
        user,
        title="The action plan",
        plan=shown,
        errors=errors,
        error_for={p.field: p.reason for p in errors},
        overdue={v.id for v in shown.actions if v.overdue(shown.today)},
        export=EXPORT_PATH,
        follow_up=application(request).config().cadence.action_follow_up,
    )
    status = 400 if errors else 200
    return page(request, "dashboard_action_plan.html.j2", body, status_code=status)


@router.get(EXPORT_PATH + ".csv")
def plan_csv(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_export(request, user, "csv"))
    body = ("\ufeff" + out.getvalue()).encode("utf-8")  # a byte-order mark: Excel reads accents
    return _download(body, "text/csv; charset=utf-8", "action-plan.csv")


@router.get(EXPORT_PATH + ".xlsx")
def plan_xlsx(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    rows = _export(request, user, "xlsx")
    return _download(progress_workbook("Action plan", rows), XLSX, "action-plan.xlsx")


def _export(request: Request, user: SignedIn, kind: str) -> list[list[str]]:
    """The plan as rows of text, headings first, with the page's filters (a filter that is
    not a choice is left out, as on the page); the export is kept in the audit trail."""
    with application(request).unit_of_work(actor=user.actor) as uow:
        filters, _ = read_filters(
            request.query_params, _choices(uow.config, actions.list_actions(uow))
        )
        return actions.export_table(
            uow,
            kind=kind,
            agency_id=filters.agency or None,
            status=filters.status or None,
            round_id=filters.round or None,
            area_id=filters.area or None,
            overdue=filters.overdue,
        )


def _download(body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get(LESSONS_PATH, response_class=HTMLResponse)
def lessons(
    request: Request, round: str = "", area: str = "", user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    config = application(request).config()
    areas = [(a.id, a.name) for a in config.board.areas]
    errors = []
    if area and area not in dict(areas):
        errors.append(unknown("filter-area", f"There is no area '{area[:60]}'"))
        area = ""
    with application(request).unit_of_work(actor=user.actor) as uow:
        every = actions.lessons_to_act_on(uow, area_id=area or None)
    rounds = sorted({lesson.round_id for lesson in every}, reverse=True)
    if round and round not in rounds:
        errors.append(unknown("filter-round", f"No lesson of a round '{round[:60]}' is to act on"))
        round = ""
    by_round: dict[str, list[actions.LessonView]] = {}
    for lesson in every:
        if not round or lesson.round_id == round:
            by_round.setdefault(lesson.round_id, []).append(lesson)
    shown = context(
        user,
        title="Lessons to act on",
        by_round=by_round,
        rounds=[(r, r) for r in rounds],
        areas=areas,
        asked={"round": round, "area": area},
        area_names=dict(areas),
        agency_names={a.id: a.name for a in config.agencies},
        errors=errors,
        error_for={p.field: p.reason for p in errors},
    )
    return page(request, "dashboard_lessons.html.j2", shown, status_code=400 if errors else 200)
