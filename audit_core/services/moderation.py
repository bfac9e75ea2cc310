"""Recording a round's audit day (moderation): ``auditround round moderate``, and the
dashboard's page for it.

- :func:`start_sheet` gives the record the audit day starts from: the round collated
  (:func:`audit_core.services.collation.collate`, kept in the audit trail as every
  collation is) and what is recorded already (:mod:`audit_core.domain.moderation`).
- :func:`record_audit_day` records a sheet: each case's agreed grade, key findings and
  summary (``case_moderation``), and the round's strengths and lessons as the audit day
  worded and decided them (``finding``, which the briefing's draft reads). Once the
  record is complete, the round moves from moderation to briefing.

The sheet comes as plain values, whether from a file or a web form; nothing here reads
either. Recording the same sheet again changes nothing and adds no event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from audit_core.domain.errors import InvalidState
from audit_core.domain.models import (
    Action,
    AuditRound,
    Briefing,
    BriefingStatus,
    CaseModeration,
    Finding,
    FindingKind,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.moderation import (
    CaseRef,
    Missing,
    Sheet,
    SheetCase,
    SheetFinding,
    SheetRejected,
    SheetRules,
    check_sheet,
    resolve,
    starting_sheet,
    still_missing,
    tidy,
)
from audit_core.domain.recurrence import lesson_recurs
from audit_core.domain.workdays import local_date
from audit_core.services.collation import collate
from audit_core.services.queries import get_round
from audit_core.services.recurrence import previous_lessons
from audit_core.services.unit_of_work import UnitOfWork

CaseKey = tuple[str, str]  # (area id, case reference)
BLANK: tuple[str | None, str, str] = (None, "", "")  # a case nothing is agreed about yet


@dataclass(frozen=True)
class AuditDayResult:
    """What recording the audit day changed, what it still lacks, and the round's status."""

    round_id: str
    status: str  # the round's status after recording
    cases: int  # cases of the round
    cases_agreed: int  # with an agreed grade
    cases_changed: tuple[str, ...]  # the references whose record changed
    findings: int
    forward: int  # going forward to the briefing
    kept_back: int  # kept in the round's record only
    undecided: int
    findings_changed: bool  # the round's findings were replaced by the sheet's
    missing: tuple[Missing, ...]
    moved_to_briefing: bool

    @property
    def changed(self) -> bool:
        return bool(self.cases_changed) or self.findings_changed

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "status": self.status,
            "changed": self.changed,
            "cases": {
                "total": self.cases,
                "agreed": self.cases_agreed,
                "changed": list(self.cases_changed),
            },
            "findings": {
                "total": self.findings,
                "forward": self.forward,
                "kept_back": self.kept_back,
                "undecided": self.undecided,
                "changed": self.findings_changed,
            },
            "missing": [m.to_json() for m in self.missing],
            "complete": not self.missing,
            "moved_to_briefing": self.moved_to_briefing,
        }


def start_sheet(uow: UnitOfWork, round_id: str) -> Sheet:
    """The audit day's record as it starts: the round collated (that reading is kept in
    the audit trail), merged with what is recorded already. Nothing else is written."""
    audit_round = get_round(uow.session, round_id)
    audit_round.require_moderating()
    figures = collate(uow, audit_round.id).figures
    round_cases = _round_cases(uow.session, audit_round)
    moderations = _moderations(uow.session, round_cases.values())
    agreed = {key: _agreed(moderations.get(rc.id)) for key, rc in round_cases.items()}
    recorded = [_sheet_finding(f) for f in _findings(uow.session, audit_round.id)]
    return starting_sheet(audit_round.id, figures, agreed, recorded)


def sheet_rules(uow: UnitOfWork, round_id: str) -> SheetRules:
    """What the round's record may hold: the scale's grades, the themes, the agencies and
    the round's cases."""
    audit_round = get_round(uow.session, round_id)
    return SheetRules.of(uow.config, _round_cases(uow.session, audit_round))


def record_audit_day(uow: UnitOfWork, round_id: str, sheet: Sheet) -> AuditDayResult:
    """Record the audit day of a round from its sheet.

    1. The round must be in moderation or briefing, and no issued briefing may cover it.
    2. The sheet is tidied and checked against the configuration and the round's cases;
       with any problem, :class:`SheetRejected` lists them all and nothing is written.
    3. Each case of the sheet whose grade, key findings or summary differ from what is
       recorded is written, with when and by whom (a case left out stays as it is).
    4. If the findings differ from those recorded (in content or order), the round's
       findings are replaced by the sheet's, in its order; one whose content is the same
       as before keeps when it was made. A lesson whose theme went forward as a lesson in
       the previous round of an area of its cases is flagged recurring (a well established
       finding: :mod:`audit_core.domain.recurrence`).
    5. If anything changed, one ``audit_day_recorded`` event, with counts only.
    6. If nothing is missing any longer and the round is in moderation, it moves to
       briefing (``round_moved_to_briefing``).
    """
    session = uow.session
    audit_round = get_round(session, round_id)
    session.refresh(audit_round, with_for_update=True)  # one record of a round at a time
    audit_round.require_moderating()
    _refuse_if_issued(uow, audit_round.id)
    round_cases = _round_cases(session, audit_round)
    rules = SheetRules.of(uow.config, round_cases)
    sheet = tidy(sheet)
    problems = check_sheet(sheet, rules, audit_round.id)
    if problems:
        raise SheetRejected(problems)
    sheet = resolve(sheet, rules)
    moderations = _moderations(session, round_cases.values())
    changed = _record_cases(uow, sheet.cases, round_cases, moderations)
    findings_changed = _record_findings(
        uow, audit_round.id, sheet.findings, _previous_themes(session, audit_round)
    )
    recorded = Sheet(
        audit_round.id,
        tuple(
            SheetCase(ref, area, *_agreed(moderations.get(rc.id)))
            for (area, ref), rc in round_cases.items()
        ),
        sheet.findings,
    )
    missing = tuple(still_missing(recorded, list(round_cases)))
    result = _result(audit_round, recorded, changed, findings_changed, missing)
    if result.changed:
        uow.record(
            "audit_day_recorded",
            "audit_round",
            audit_round.id,
            round_id=audit_round.id,
            details=_counts(result),
        )
    if missing or audit_round.status != RoundStatus.MODERATION:
        return result
    was = audit_round.status
    audit_round.finish_moderation()
    uow.flush_round(audit_round, was)
    uow.record(
        "round_moved_to_briefing",
        "audit_round",
        audit_round.id,
        round_id=audit_round.id,
        details={"cases": result.cases, "forward": result.forward},
    )
    return _result(audit_round, recorded, changed, findings_changed, missing, moved=True)


# --- reading what is recorded ------------------------------------------------------------


def _round_cases(session: Session, audit_round: AuditRound) -> dict[CaseKey, RoundCase]:
    """The round's cases by (area, reference), in the collation's order."""
    found = session.scalars(
        select(RoundCase)
        .where(RoundCase.round_id == audit_round.id)
        .options(selectinload(RoundCase.case))
    )
    rank = {a: i for i, a in enumerate(audit_round.areas)}
    ordered = sorted(found, key=lambda rc: (rank.get(rc.area_id, 99), rc.case.reference))
    return {(rc.area_id, rc.case.reference): rc for rc in ordered}


def _moderations(session: Session, round_cases: Iterable[RoundCase]) -> dict[int, CaseModeration]:
    ids = [rc.id for rc in round_cases]
    rows = session.scalars(select(CaseModeration).where(CaseModeration.round_case_id.in_(ids)))
    return {m.round_case_id: m for m in rows}


def _agreed(moderation: CaseModeration | None) -> tuple[str | None, str, str]:
    if moderation is None:
        return BLANK
    return (moderation.agreed_grade, moderation.key_findings, moderation.summary)


def _findings(session: Session, round_id: str) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.round_id == round_id)
            .order_by(Finding.position, Finding.id)
        )
    )


def _sheet_finding(row: Finding) -> SheetFinding:
    return SheetFinding(
        kind=row.kind,
        theme_id=row.theme_id,
        text=row.text,
        key_phrase=row.key_phrase or "",
        cases=tuple(CaseRef(c["ref"], c.get("area")) for c in row.case_refs or []),
        agencies=tuple(row.agencies or []),
        forward=row.forward,
    )


def _refuse_if_issued(uow: UnitOfWork, round_id: str) -> None:
    """A briefing covering the round has been issued: its record is frozen as issued."""
    issued = [
        b
        for b in uow.session.scalars(
            select(Briefing).where(Briefing.status == BriefingStatus.ISSUED)
        )
        if round_id in (b.round_ids or [])
    ]
    if not issued:
        return
    first = min(issued, key=lambda b: (b.issued_at is None, b.issued_at, b.id))
    on = f" on {local_date(first.issued_at, uow.timezone):%d/%m/%Y}" if first.issued_at else ""
    raise InvalidState(
        f"A briefing covering round {round_id} ({first.area_id}, {first.scope}) was issued{on}: "
        "the audit day's record stays as it was issued."
    )


def _refuse_if_acted_on(uow: UnitOfWork, round_id: str, findings: Sequence[Finding]) -> None:
    """Actions were made from the round's lessons: its findings stay as they were acted on."""
    acted = uow.session.scalar(
        select(func.count(Action.id)).where(Action.finding_id.in_([f.id for f in findings]))
    )
    if acted:
        raise InvalidState(
            f"{acted} action(s) were made from round {round_id}'s lessons: its strengths and "
            "lessons stay as they were when acted on (the cases' grades, key findings and "
            "summaries can still be corrected: leave the findings as they are in the file)."
        )


# --- writing -----------------------------------------------------------------------------


def _record_cases(
    uow: UnitOfWork,
    cases: Sequence[SheetCase],
    round_cases: Mapping[CaseKey, RoundCase],
    moderations: dict[int, CaseModeration],
) -> tuple[str, ...]:
    """Write each case whose record changed; the references of those written."""
    changed = []
    for case in cases:
        rc = round_cases[(case.area_id, case.reference)]
        row = moderations.get(rc.id)
        if case.agreed == _agreed(row):
            continue
        if row is None:
            row = CaseModeration(round_case_id=rc.id)
            uow.session.add(row)
            moderations[rc.id] = row
        row.agreed_grade, row.key_findings, row.summary = case.agreed
        row.moderated_at, row.moderated_by = uow.now, uow.actor
        changed.append(case.reference)
    return tuple(changed)


def _previous_themes(session: Session, audit_round: AuditRound) -> dict[str, frozenset[str]]:
    """Each area's lesson themes that went forward in its previous round."""
    return {a: p.themes for a, p in previous_lessons(session, audit_round).items()}


def _record_findings(
    uow: UnitOfWork,
    round_id: str,
    findings: Sequence[SheetFinding],
    previous: Mapping[str, frozenset[str]],
) -> bool:
    """Replace the round's findings with these if they differ; whether they did. A lesson
    whose theme was a lesson of the previous round of an area of its cases is recurring."""
    session = uow.session
    before = _findings(session, round_id)
    if [_sheet_finding(r).content for r in before] == [f.content for f in findings]:
        return False
    _refuse_if_acted_on(uow, round_id, before)
    kept: dict[tuple[Any, ...], list[Finding]] = {}
    for row in before:
        kept.setdefault(_sheet_finding(row).content, []).append(row)
    session.execute(delete(Finding).where(Finding.round_id == round_id))
    for position, f in enumerate(findings):
        same = kept.get(f.content)
        earlier = same.pop(0) if same else None
        session.add(
            Finding(
                round_id=round_id,
                kind=f.kind,
                theme_id=f.theme_id,
                key_phrase=f.key_phrase,
                text=f.text,
                case_refs=[c.to_json() for c in f.cases],
                agencies=list(f.agencies),
                forward=f.forward,
                position=position,
                recurring=f.kind == FindingKind.LESSON
                and lesson_recurs(f.theme_id, [c.area_id or "" for c in f.cases], previous),
                created_at=earlier.created_at if earlier else uow.now,
                updated_at=earlier.updated_at if earlier else None,
            )
        )
    session.flush()
    return True


def _result(
    audit_round: AuditRound,
    recorded: Sheet,
    changed: tuple[str, ...],
    findings_changed: bool,
    missing: tuple[Missing, ...],
    *,
    moved: bool = False,
) -> AuditDayResult:
    decisions = [f.forward for f in recorded.findings]
    return AuditDayResult(
        round_id=audit_round.id,
        status=audit_round.status,
        cases=len(recorded.cases),
        cases_agreed=sum(1 for c in recorded.cases if c.agreed_grade is not None),
        cases_changed=changed,
        findings=len(decisions),
        forward=decisions.count(True),
        kept_back=decisions.count(False),
        undecided=decisions.count(None),
        findings_changed=findings_changed,
        missing=missing,
        moved_to_briefing=moved,
    )


def _counts(result: AuditDayResult) -> dict[str, Any]:
    """The event's details: counts only, never a word of the record."""
    return {
        "cases": result.cases,
        "cases_changed": len(result.cases_changed),
        "cases_agreed": result.cases_agreed,
        "findings": result.findings,
        "findings_replaced": result.findings_changed,
        "forward": result.forward,
        "kept_back": result.kept_back,
        "undecided": result.undecided,
        "missing": len(result.missing),
    }
