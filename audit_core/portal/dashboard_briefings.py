"""The learning briefings on the dashboard: the list, and one briefing's editor.

- ``GET /dashboard/briefings``: every briefing (an area and a scope), with how many
  versions it has and the status of the latest;
- ``GET /dashboard/briefings/{area}/{scope}``: the latest version's content as a form
  (the introduction, the case summaries, the strengths, the lessons with their prompts
  and policy links), and every version with who wrote, approved and issued it;
- ``POST`` of that form (coordinators, the session's CSRF token): a new draft version
  through :func:`audit_core.services.briefings.edit`, with a note of what it changes;
- ``POST .../approve``: :func:`audit_core.services.briefings.approve` of the latest
  version, the one the page showed (the board's second-approver rule is the service's,
  and its refusal is shown on the page).

Drafting from the audit day's record and issuing (rendering the PDF, writing the files,
emailing the distribution list) stay with ``auditround briefing draft`` and ``issue``.

The form's fields are named by the content's key paths (``rounds[0].lessons[1].text``),
the same paths the content's problems name; what the form does not show (the board's
names, the themes, the grades for the chart) is kept from the version it edits.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from audit_core.domain.briefing_edit import from_data, to_data
from audit_core.domain.briefing_scope import Scope, scope_from_key
from audit_core.domain.errors import AuditRoundError, NotFound, ProblemsError
from audit_core.portal.auth import SignedIn, checked_form, coordinator, signed_in
from audit_core.portal.dashboard_audit_day import field_id
from audit_core.portal.dashboard_pages import day
from audit_core.portal.web import application, not_found, page
from audit_core.services import briefings
from audit_core.services.briefings import BriefingVersion

LIST_PATH = "/dashboard/briefings"
BRIEFING_PATH = "/dashboard/briefings/{area_id}/{scope}"
SOURCE = "the briefing's form"
MOST_FIELDS = 5_000  # a briefing of many lessons and links; a form beyond this is refused
EXPIRED = "The form did not say which version to approve: read the latest, then approve it."
DONE = {
    "saved": "The changes are saved as a new draft version.",
    "unchanged": "Nothing changed: the latest version already says this.",
    "approved": "The latest version is approved. Issue it with auditround briefing issue.",
}

router = APIRouter()


@dataclass(frozen=True)
class BriefingLine:
    """One briefing (an area and a scope) on the list."""

    area_id: str
    area_name: str
    scope: str
    round_ids: tuple[str, ...]
    versions: int
    status: str  # the latest version's
    latest: int

    @property
    def path(self) -> str:
        return briefing_url(self.area_id, self.scope)


def briefing_url(area_id: str, scope: str) -> str:
    return BRIEFING_PATH.format(area_id=area_id, scope=scope)


def _context(user: SignedIn, **more: Any) -> dict[str, Any]:
    return {"user": user, "csrf_token": user.csrf_token, "day": day, "fid": field_id, **more}


# --- the list -------------------------------------------------------------------------------------


@router.get(LIST_PATH, response_class=HTMLResponse)
def briefing_list(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    with application(request).unit_of_work(actor=user.actor) as uow:
        every = briefings.every_version(uow)
        areas = {a.id: a.name for a in uow.config.board.areas}
    lines: dict[tuple[str, str], list[BriefingVersion]] = {}
    for version in every:
        lines.setdefault((version.area_id, version.scope), []).append(version)
    shown = [
        BriefingLine(
            area_id=area_id,
            area_name=areas.get(area_id, area_id),
            scope=scope,
            round_ids=found[-1].round_ids,
            versions=len(found),
            status=found[-1].status,
            latest=found[-1].version,
        )
        for (area_id, scope), found in lines.items()
    ]
    context = _context(user, title="Briefings", briefings=shown)
    return page(request, "dashboard_briefings.html.j2", context)


# --- one briefing -------------------------------------------------------------------------------


def _scope(text: str) -> Scope | None:
    try:
        return scope_from_key(text)
    except AuditRoundError:
        return None


def _versions(
    request: Request, user: SignedIn, area_id: str, scope: Scope
) -> list[BriefingVersion]:
    """Every version of the briefing, the first first (NotFound: no such area, or none)."""
    with application(request).unit_of_work(actor=user.actor) as uow:
        found = briefings.versions(uow, area_id, scope)
    if not found:
        raise NotFound(f"There is no briefing {area_id} {scope.key}.")
    return found


def _editor(
    request: Request,
    user: SignedIn,
    found: list[BriefingVersion],
    *,
    data: dict[str, Any] | None = None,
    note: str = "",
    problems: ProblemsError | None = None,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    latest = found[-1]
    shown = data if data is not None else to_data(latest.content)
    errors = _pointers(problems, shown) if problems else []
    context = _context(
        user,
        title=f"Briefing: {latest.content.area_name}, {latest.scope}",
        latest=latest,
        versions=list(reversed(found)),
        data=shown,
        note=note,
        errors=errors,
        error=error,
        error_for={p.name: p.reason for p in errors},
        done=DONE.get(done or ""),
        action=briefing_url(latest.area_id, latest.scope),
    )
    return page(request, "dashboard_briefing.html.j2", context, status_code=status)


@router.get(BRIEFING_PATH, response_class=HTMLResponse)
def briefing(
    request: Request,
    area_id: str,
    scope: str,
    done: str | None = None,
    user: SignedIn = Depends(signed_in),
) -> HTMLResponse:
    asked = _scope(scope)
    if asked is None:
        return not_found(request)
    try:
        found = _versions(request, user, area_id, asked)
    except AuditRoundError:
        return not_found(request)
    return _editor(request, user, found, done=done)


@router.post(BRIEFING_PATH, response_class=HTMLResponse)
async def save(
    request: Request, area_id: str, scope: str, user: SignedIn = Depends(coordinator)
) -> Response:
    fields = await checked_form(request, user, MOST_FIELDS)
    return await run_in_threadpool(_save, request, user, area_id, scope, fields)


def _save(
    request: Request, user: SignedIn, area_id: str, scope: str, fields: dict[str, str]
) -> Response:
    """A new draft version from the form, over the version the page showed."""
    asked = _scope(scope)
    if asked is None:
        return not_found(request)
    try:
        found = _versions(request, user, area_id, asked)
    except AuditRoundError:
        return not_found(request)
    latest, note = found[-1], fields.get("note", "")
    data = overlay(to_data(latest.content), fields)
    if fields.get("version") != str(latest.version):
        stale = (
            f"Version {latest.version} was saved since this page was opened: nothing was "
            "saved. The page now shows it; make the changes again."
        )
        return _editor(request, user, found, error=stale, status=409)
    try:
        content = from_data(data, SOURCE)
        with application(request).unit_of_work(actor=user.actor) as uow:
            made = briefings.edit(uow, latest.area_id, asked, content, note, source=SOURCE)
    except ProblemsError as exc:
        return _editor(request, user, found, data=data, note=note, problems=exc, status=422)
    except AuditRoundError as exc:
        return _editor(request, user, found, data=data, note=note, error=str(exc), status=409)
    outcome = "saved" if made.changed else "unchanged"
    return RedirectResponse(f"{briefing_url(made.area_id, made.scope)}?done={outcome}", 303)


@router.post(BRIEFING_PATH + "/approve", response_class=HTMLResponse)
async def approve(
    request: Request, area_id: str, scope: str, user: SignedIn = Depends(coordinator)
) -> Response:
    fields = await checked_form(request, user)
    return await run_in_threadpool(_approve, request, user, area_id, scope, fields)


def _approve(
    request: Request, user: SignedIn, area_id: str, scope: str, fields: dict[str, str]
) -> Response:
    asked = _scope(scope)
    if asked is None:
        return not_found(request)
    version = fields.get("version", "")
    try:
        found = _versions(request, user, area_id, asked)
    except AuditRoundError:
        return not_found(request)
    if not (version.isascii() and version.isdigit() and len(version) < 9):
        return _editor(request, user, found, error=EXPIRED, status=409)
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            made = briefings.approve(uow, area_id, asked, int(version))
    except AuditRoundError as exc:  # the second approver's rule; a later version; issued
        return _editor(request, user, found, error=str(exc), status=409)
    outcome = "approved" if made.changed else "unchanged"
    return RedirectResponse(f"{briefing_url(made.area_id, made.scope)}?done={outcome}", 303)


# --- the form, onto the content -------------------------------------------------------------------


def overlay(data: dict[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The content's data with the form's values put in their places (what the form does
    not hold is left as it was). Prompts are one a line; a link with neither title nor
    address is left out, and the form's empty link row, filled in, adds one."""
    data = copy.deepcopy(data)
    _put(data, "introduction", fields, "introduction")
    for r, part in enumerate(data.get("rounds", [])):
        at = f"rounds[{r}]"
        for c, case in enumerate(part.get("cases", [])):
            _put(case, "summary", fields, f"{at}.cases[{c}].summary")
        for g, group in enumerate(part.get("strengths", [])):
            where = f"{at}.strengths[{g}]"
            _put(group, "heading", fields, f"{where}.heading")
            _put(group, "intro", fields, f"{where}.intro")
            for i, item in enumerate(group.get("items", [])):
                _put(item, "key_phrase", fields, f"{where}.items[{i}].key_phrase")
                _put(item, "text", fields, f"{where}.items[{i}].text")
        for n, lesson in enumerate(part.get("lessons", [])):
            _lesson(lesson, fields, f"{at}.lessons[{n}]")
    return data


def _put(target: dict[str, Any], key: str, fields: Mapping[str, str], name: str) -> None:
    if name in fields:
        target[key] = fields[name]


def _lesson(lesson: dict[str, Any], fields: Mapping[str, str], where: str) -> None:
    _put(lesson, "heading", fields, f"{where}.heading")
    _put(lesson, "text", fields, f"{where}.text")
    if f"{where}.prompts" in fields:
        lines = fields[f"{where}.prompts"].splitlines()
        lesson["prompts"] = [line.strip() for line in lines if line.strip()]
    links = []
    for k in range(len(lesson.get("links", [])) + 1):
        title = fields.get(f"{where}.links[{k}].title")
        url = fields.get(f"{where}.links[{k}].url")
        if title is None and url is None:  # not on the form: kept as it was
            links.extend(lesson["links"][k : k + 1])
        elif (title or "").strip() or (url or "").strip():
            links.append({"title": title or "", "url": url or ""})
    lesson["links"] = links


# --- problems, next to their fields ---------------------------------------------------------------


@dataclass(frozen=True)
class Pointer:
    field: str  # the field's id
    name: str  # its name (the key path)
    message: str  # in the list at the top: which field, and what is wrong
    reason: str  # beside the field


def _fields_of(data: Mapping[str, Any]) -> dict[str, str]:
    """Every field the form shows, by name, with what the error summary calls it."""
    named = {"introduction": "Introduction", "note": "Note for this version"}
    for r, part in enumerate(data.get("rounds", [])):
        at = f"rounds[{r}]"
        for c, case in enumerate(part.get("cases", [])):
            named[f"{at}.cases[{c}].summary"] = f"{case.get('label', 'Case')}, summary"
        for g, group in enumerate(part.get("strengths", [])):
            where, head = f"{at}.strengths[{g}]", f"Strengths '{group.get('heading', '')}'"
            named[f"{where}.heading"] = f"{head}, heading"
            named[f"{where}.intro"] = f"{head}, introduction"
            for i, _ in enumerate(group.get("items", [])):
                named[f"{where}.items[{i}].key_phrase"] = f"{head}, strength {i + 1}, key phrase"
                named[f"{where}.items[{i}].text"] = f"{head}, strength {i + 1}"
        for n, lesson in enumerate(part.get("lessons", [])):
            where, head = f"{at}.lessons[{n}]", f"Lesson '{lesson.get('heading', '')}'"
            named[f"{where}.heading"] = f"{head}, heading"
            named[f"{where}.text"] = f"{head}, text"
            named[f"{where}.prompts"] = f"{head}, practice prompts"
            for k in range(len(lesson.get("links", [])) + 1):
                named[f"{where}.links[{k}].title"] = f"{head}, link {k + 1} title"
                named[f"{where}.links[{k}].url"] = f"{head}, link {k + 1} address"
    return named


def _pointers(error: ProblemsError, data: Mapping[str, Any]) -> list[Pointer]:
    named = _fields_of(data)
    found = []
    for problem in error.problems:
        name = problem.location
        while name and name not in named:
            cut = max(name.rfind("."), name.rfind("["))
            name = name[:cut] if cut > 0 else ""
        head = named.get(name, "The briefing")
        reason = problem.reason[:1].upper() + problem.reason[1:] + "."
        message = f"{head}: {problem.reason}."
        found.append(Pointer(field_id(name or "briefing"), name, message, reason))
    return found
