"""``/dashboard/rounds/{round}/audit-day``: the audit day's record of a round, as a form.

GET shows the sheet the audit day starts from (:func:`~audit_core.services.moderation.start_sheet`):
each case with the agencies' grades side by side, its agreed grade, key findings and
brief summary; then each strength and lesson with its theme, key phrase, wording, the
cases and agencies it came from, and whether it goes forward to the briefing. Any
signed-in user may read it; only a coordinator sees the form.

POST (coordinators, with the session's CSRF token) records the form through
:func:`~audit_core.services.moderation.record_audit_day` in one transaction, then shows
what was recorded and what is still missing. Values the record cannot take are listed at
the top, each linked to its field and shown beside it, with everything typed kept; nothing
is written. The page is there only while the round is in moderation or briefing.

The form's fields are named by the record's key paths (``cases[2].agreed_grade``,
``strengths[0].forward``), the same paths the record's problems name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from audit_core.domain.errors import AuditRoundError, InvalidState, NotFound, ProblemsError
from audit_core.domain.models import FindingKind
from audit_core.domain.moderation import (
    PART,
    CaseRef,
    Missing,
    Sheet,
    SheetCase,
    SheetFinding,
    still_missing,
)
from audit_core.domain.policy import BoardConfig
from audit_core.portal.auth import SignedIn, checked_form, coordinator, signed_in
from audit_core.portal.dashboard_pages import day
from audit_core.portal.web import application, not_found, page
from audit_core.services.moderation import AuditDayResult, record_audit_day, start_sheet
from audit_core.services.queries import get_round

AUDIT_DAY_PATH = "/dashboard/rounds/{round_id}/audit-day"
MOST_FIELDS = 5_000  # a round of many cases and findings; a form beyond this is refused
FIELD = re.compile(r"^(cases|strengths|lessons)\[(\d{1,4})\]\.([a-z_]+)$")
FORWARD = {"yes": True, "no": False}
KIND_OF = {part: kind for kind, part in PART.items()}  # "strengths" -> "strength"

router = APIRouter()


def field_id(name: str) -> str:
    """The HTML id of the field posted as ``name`` (``cases[2].agreed_grade`` ->
    ``cases-2-agreed-grade``): a fragment the error summary can link to."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


# --- the form, read back into a sheet --------------------------------------------------------


def read_sheet(round_id: str, fields: Mapping[str, str]) -> Sheet:
    """The sheet the form holds, as typed (the record tidies and checks it)."""
    rows: dict[str, dict[int, dict[str, str]]] = {"cases": {}, "strengths": {}, "lessons": {}}
    for name, value in fields.items():
        found = FIELD.match(name)
        if found:
            rows[found[1]].setdefault(int(found[2]), {})[found[3]] = value
    cases = tuple(
        SheetCase(
            reference=row.get("reference", ""),
            area_id=row.get("area", ""),
            agreed_grade=row.get("agreed_grade") or None,
            key_findings=row.get("key_findings", ""),
            summary=row.get("summary", ""),
        )
        for _, row in sorted(rows["cases"].items())
    )
    findings = tuple(
        _finding(KIND_OF[part], row)
        for part in ("strengths", "lessons")
        for _, row in sorted(rows[part].items())
    )
    return Sheet(round_id, cases, findings)


def _finding(kind: str, row: Mapping[str, str]) -> SheetFinding:
    return SheetFinding(
        kind=kind,
        theme_id=row.get("theme", ""),
        text=row.get("text", ""),
        key_phrase=row.get("key_phrase", ""),
        cases=tuple(_case_ref(word) for word in row.get("cases", "").split()),
        agencies=tuple(row.get("agencies", "").split()),
        forward=FORWARD.get(row.get("forward", "")),
    )


def _case_ref(word: str) -> CaseRef:
    area, _, reference = word.rpartition(":")
    return CaseRef(reference, area or None)


# --- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeHint:
    """The agencies' grades of one case, side by side: a row per section of the tool."""

    agencies: tuple[str, ...]  # the agencies whose return is in (the columns)
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # section title, a grade per agency
    not_received: tuple[str, ...]  # "City of London Police (declined)"


@dataclass(frozen=True)
class CaseForm:
    name: str  # "cases[0]"
    case: SheetCase
    area_name: str
    hint: GradeHint


@dataclass(frozen=True)
class FindingForm:
    name: str  # "strengths[0]"
    number: int  # from 1, within its kind
    finding: SheetFinding
    came_from: str  # the cases and agencies, as read
    cases_value: str  # the hidden fields' values
    agencies_value: str

    @property
    def noun(self) -> str:
        return "Strength" if self.finding.kind == FindingKind.STRENGTH else "Lesson"


def _hint(config: BoardConfig, case: SheetCase) -> GradeHint:
    labels = {g.id: g.label for g in config.scale.grades}
    received = [a for a in case.agencies if a.received]
    rows = []
    for section in config.audit_tool.sections:
        grades = [dict(a.grades).get(section.id) for a in received]
        if any(grades):
            rows.append((section.title, tuple(labels.get(g or "", "Not graded") for g in grades)))
    return GradeHint(
        agencies=tuple(a.agency_name for a in received),
        rows=tuple(rows),
        not_received=tuple(f"{a.agency_name} ({a.state})" for a in case.agencies if not a.received),
    )


def _findings(config: BoardConfig, sheet: Sheet) -> list[FindingForm]:
    areas = {a.id: a.name for a in config.board.areas}
    agencies = {a.id: a.name for a in config.agencies}
    forms = []
    for name, finding in sheet.located():
        number = int(name[name.index("[") + 1 : -1]) + 1
        cases = ", ".join(
            f"{c.reference} ({areas.get(c.area_id or '', c.area_id or 'area not given')})"
            for c in finding.cases
        )
        from_agencies = ", ".join(agencies.get(a, a) for a in finding.agencies)
        came_from = "; ".join(p for p in (cases, from_agencies) if p) or "Not given"
        forms.append(
            FindingForm(
                name=name,
                number=number,
                finding=finding,
                came_from=came_from,
                cases_value=" ".join(str(c) for c in finding.cases),
                agencies_value=" ".join(finding.agencies),
            )
        )
    return forms


def _with_hints(typed: Sheet, started: Sheet) -> Sheet:
    """The sheet as typed, each case given the agencies' grades the page shows beside it."""
    hints = {(c.area_id, c.reference): c.agencies for c in started.cases}
    cases = tuple(
        SheetCase(
            c.reference,
            c.area_id,
            c.agreed_grade,
            c.key_findings,
            c.summary,
            agencies=hints.get((c.area_id, c.reference), ()),
        )
        for c in typed.cases
    )
    return Sheet(started.round_id, cases, typed.findings)


def _labels(cases: list[CaseForm], findings: list[FindingForm]) -> dict[str, str]:
    """Each field's name as the error summary says it ("Case HK-00123, summary")."""
    labels = {}
    for c in cases:
        head = f"Case {c.case.reference}"
        labels[c.name] = head
        labels[f"{c.name}.agreed_grade"] = f"{head}, agreed grade"
        labels[f"{c.name}.key_findings"] = f"{head}, key findings"
        labels[f"{c.name}.summary"] = f"{head}, summary"
    for f in findings:
        head = f"{f.noun} {f.number}"
        labels[f.name] = head
        for key, what in (
            ("theme", "theme"),
            ("key_phrase", "key phrase"),
            ("text", "wording"),
            ("forward", "goes forward"),
        ):
            labels[f"{f.name}.{key}"] = f"{head}, {what}"
    return labels


def _place(location: str, labels: Mapping[str, str]) -> str:
    """The field a key path belongs to: the path itself, or the nearest enclosing one shown
    (``strengths[0].cases[1]`` -> ``strengths[0]``); the form itself for the round."""
    path = location
    while path and path not in labels:
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return path or "audit-day"


@dataclass(frozen=True)
class Pointer:
    """A line of the error summary or of what is still missing, linked to its field."""

    field: str  # the field's id
    name: str  # the field's name (the key path)
    message: str  # in the list at the top: which field, and what is wrong
    reason: str  # beside the field


def _problem_pointers(error: ProblemsError, labels: Mapping[str, str]) -> list[Pointer]:
    found = []
    for p in error.problems:
        name = _place(p.location, labels)
        reason = p.reason[:1].upper() + p.reason[1:] + "."
        head = labels.get(name, "The record")
        found.append(Pointer(field_id(name), name, f"{head}: {p.reason}.", reason))
    return found


def _missing_pointers(missing: tuple[Missing, ...], labels: Mapping[str, str]) -> list[Pointer]:
    found = []
    for m in missing:
        name = _place(m.location, labels)
        found.append(Pointer(field_id(name), name, m.what, m.what))
    return found


# --- the pages ------------------------------------------------------------------------------------


def _render(
    request: Request,
    user: SignedIn,
    round_facts: dict[str, Any],
    sheet: Sheet,
    *,
    missing: tuple[Missing, ...],
    problems: ProblemsError | None = None,
    result: AuditDayResult | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    config = application(request).config()
    cases = [
        CaseForm(f"cases[{i}]", c, _area_name(config, c.area_id), _hint(config, c))
        for i, c in enumerate(sheet.cases)
    ]
    findings = _findings(config, sheet)
    labels = _labels(cases, findings)
    errors = _problem_pointers(problems, labels) if problems else []
    context = {
        "title": f"Round {round_facts['round_id']}: audit day",
        "user": user,
        "csrf_token": user.csrf_token,
        "day": day,
        "fid": field_id,
        "round": round_facts,
        "cases": cases,
        "strengths": [f for f in findings if f.finding.kind == FindingKind.STRENGTH],
        "lessons": [f for f in findings if f.finding.kind == FindingKind.LESSON],
        "grades": [(g.id, g.label) for g in config.scale.grades],
        "themes": [(t.id, t.name) for t in config.themes],
        "errors": errors,
        "error": error,
        "error_for": {p.name: p.reason for p in errors},
        "grade_names": {g.id: g.label for g in config.scale.grades},
        "theme_names": {t.id: t.name for t in config.themes},
        "missing": [] if problems else _missing_pointers(missing, labels),
        "result": result,
        "action": AUDIT_DAY_PATH.format(round_id=round_facts["round_id"]),
    }
    return page(request, "dashboard_audit_day.html.j2", context, status_code=status)


def _area_name(config: BoardConfig, area_id: str) -> str:
    try:
        return config.area(area_id).name
    except NotFound:
        return area_id


def _unavailable(
    request: Request, user: SignedIn, facts: dict[str, Any], status: int
) -> HTMLResponse:
    """The plain message of a round whose audit day cannot be recorded now."""
    context = {
        "title": f"Round {facts['round_id']}: audit day",
        "user": user,
        "csrf_token": user.csrf_token,
        "day": day,
        "round": facts,
    }
    return page(request, "dashboard_audit_day.html.j2", context, status_code=status)


def _facts(request: Request, user: SignedIn, round_id: str) -> dict[str, Any]:
    """The round's id, status, focus and audit day, and why its audit day cannot be
    recorded now if it cannot (NotFound for a round not planned)."""
    with application(request).unit_of_work(actor=user.actor) as uow:
        audit_round = get_round(uow.session, round_id)
        try:
            audit_round.require_moderating()
            unavailable = ""
        except InvalidState as exc:
            unavailable = str(exc)
        return {
            "round_id": audit_round.id,
            "status": str(audit_round.status),
            "focus": uow.config.focus(audit_round.focus_id).name,
            "audit_day_on": audit_round.audit_day_on,
            "unavailable": unavailable,
        }


def _started(request: Request, user: SignedIn, round_id: str) -> Sheet:
    """The sheet the round's audit day starts from (the collation read is kept in the
    audit trail)."""
    with application(request).unit_of_work(actor=user.actor) as uow:
        return start_sheet(uow, round_id)


@router.get(AUDIT_DAY_PATH, response_class=HTMLResponse)
def audit_day(request: Request, round_id: str, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    try:
        facts = _facts(request, user, round_id)
    except AuditRoundError:  # no such round, or not a round's name
        return not_found(request)
    if facts["unavailable"]:
        return _unavailable(request, user, facts, 200)
    sheet = _started(request, user, facts["round_id"])
    return _render(request, user, facts, sheet, missing=tuple(still_missing(sheet)))


@router.post(AUDIT_DAY_PATH, response_class=HTMLResponse)
async def record(
    request: Request, round_id: str, user: SignedIn = Depends(coordinator)
) -> HTMLResponse:
    fields = await checked_form(request, user, MOST_FIELDS)
    return await run_in_threadpool(_record, request, user, round_id, fields)


def _record(
    request: Request, user: SignedIn, round_id: str, fields: dict[str, str]
) -> HTMLResponse:
    """Record the form; then the page again, from what is recorded now (or as typed, with
    what stopped it)."""
    try:
        facts = _facts(request, user, round_id)
    except AuditRoundError:
        return not_found(request)
    if facts["unavailable"]:
        return _unavailable(request, user, facts, 409)
    typed = read_sheet(facts["round_id"], fields)
    try:
        with application(request).unit_of_work(actor=user.actor) as uow:
            result = record_audit_day(uow, facts["round_id"], typed)
    except AuditRoundError as exc:  # values refused; an issued briefing; a change at once
        shown = _with_hints(typed, _started(request, user, facts["round_id"]))
        if isinstance(exc, ProblemsError):
            return _render(request, user, facts, shown, missing=(), problems=exc, status=422)
        return _render(request, user, facts, shown, missing=(), error=str(exc), status=409)
    facts = _facts(request, user, facts["round_id"])
    recorded = _started(request, user, facts["round_id"])
    return _render(request, user, facts, recorded, missing=result.missing, result=result)
