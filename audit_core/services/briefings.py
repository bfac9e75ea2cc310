"""A learning briefing's life: drafted, edited, approved, issued (``auditround briefing``).

A briefing speaks of one area over its scope (some rounds, or a board year: see
:mod:`audit_core.domain.briefing_scope`). Every round of the scope must have reached its
briefing (its audit day recorded and complete) or be closed, and must include the area.

Each change makes or moves a **version** (``briefing`` rows, one per area, scope and
version number), and every version is kept:

- :func:`draft` builds a new version from the audit day's record
  (:mod:`audit_core.domain.briefing_draft`); :func:`edit` makes one from edited content.
  Either is a draft; one with the same content as the latest version makes nothing new.
  A draft pending replaces nothing: the new version comes after it.
- :func:`approve` approves the latest version, a draft; with
  ``board.briefing.second_approver`` only someone other than whoever wrote it may.
- :func:`issue` issues the latest version, approved: both layouts are rendered (a
  :class:`~audit_core.services.ports.BriefingRenderer`), the full one's HTML and the
  PDF's SHA-256 are kept, the version is frozen, and one email with the PDF goes to
  ``board.briefing.distribution`` (``briefing:<area>:<scope>:v<version>``). Each round
  of the scope whose every area now has an issued briefing covering it is closed. Issuing
  it again sends nothing and changes nothing (the files are rendered again). A
  correction is a later version, drafted or edited, approved and issued in turn.

Every change is recorded in the audit trail, with counts and never the content's text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from audit_core.domain.briefing import LAYOUTS, BriefingContent
from audit_core.domain.briefing_draft import FindingRecord, ModeratedCase, RoundRecord
from audit_core.domain.briefing_draft import build_briefing as build
from audit_core.domain.briefing_edit import BriefingFileError, from_data, to_data
from audit_core.domain.briefing_scope import Scope, describe_year, out_name, period_label
from audit_core.domain.briefing_scope import year_bounds as board_year
from audit_core.domain.errors import ConcurrentChange, InvalidState, NotFound, Problem
from audit_core.domain.models import (
    AuditRound,
    Briefing,
    BriefingStatus,
    CaseFile,
    CaseModeration,
    Finding,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.periods import describe_period, period_of
from audit_core.domain.workdays import local_date
from audit_core.services import emails, outbox
from audit_core.services.carry_over import earlier_actions
from audit_core.services.ports import BriefingRenderer, FileAttachment, Letter, RenderedBriefing
from audit_core.services.queries import get_round
from audit_core.services.unit_of_work import UnitOfWork

KIND = "briefing"  # the outbox kind of an issued briefing's email
READY = (RoundStatus.BRIEFING, RoundStatus.CLOSED)
NOTE_LIMIT = 500


@dataclass(frozen=True)
class BriefingVersion:
    """One version of a briefing, as plain values. ``changed`` is False when the use case
    made or moved nothing (the same content again, or approved already)."""

    id: int
    area_id: str
    scope: str
    round_ids: tuple[str, ...]
    version: int
    status: str
    note: str
    created_at: dt.datetime
    created_by: str
    approved_at: dt.datetime | None
    approved_by: str | None
    issued_at: dt.datetime | None
    issued_by: str | None
    pdf_sha256: str | None
    content: BriefingContent
    changed: bool = True

    @classmethod
    def of(cls, row: Briefing, *, changed: bool = True) -> BriefingVersion:
        return cls(
            id=row.id,
            area_id=row.area_id,
            scope=row.scope,
            round_ids=tuple(row.round_ids),
            version=row.version,
            status=row.status,
            note=row.note,
            created_at=row.created_at,
            created_by=row.created_by,
            approved_at=row.approved_at,
            approved_by=row.approved_by,
            issued_at=row.issued_at,
            issued_by=row.issued_by,
            pdf_sha256=row.pdf_sha256,
            content=_content(row),
            changed=changed,
        )

    def to_json(self, *, content: bool = False) -> dict[str, Any]:
        made: dict[str, Any] = {
            "area": self.area_id,
            "scope": self.scope,
            "rounds": list(self.round_ids),
            "version": self.version,
            "status": self.status,
            "note": self.note,
            "created": {"at": self.created_at.isoformat(), "by": self.created_by},
            "approved": _when_by(self.approved_at, self.approved_by),
            "issued": _when_by(self.issued_at, self.issued_by),
            "pdf_sha256": self.pdf_sha256,
            "changed": self.changed,
        }
        if content:
            made["content"] = to_data(self.content)
        return made


@dataclass(frozen=True)
class IssuedBriefing:
    """An issued version and its rendered layouts, for the entry point to write out."""

    version: BriefingVersion
    documents: tuple[RenderedBriefing, ...]
    already_issued: bool  # True: issued before; nothing was sent or changed this time
    message_id: int | None  # the outbox message of its email
    recipients: tuple[str, ...]
    corrects: int | None  # the earlier version issued that this one corrects
    rounds_closed: tuple[str, ...]

    def files(self) -> list[tuple[str, bytes]]:
        """Each file to write, by name: the HTML and the PDF of each layout."""
        v = self.version
        made = []
        for doc in self.documents:
            made.append((out_name(v.area_id, v.scope, doc.layout, "html"), doc.html.encode()))
            made.append((out_name(v.area_id, v.scope, doc.layout, "pdf"), doc.pdf))
        return made

    def to_json(self) -> dict[str, Any]:
        return {
            "briefing": self.version.to_json(),
            "already_issued": self.already_issued,
            "outbox_message": self.message_id,
            "emailed_to": list(self.recipients),
            "corrects": self.corrects,
            "rounds_closed": list(self.rounds_closed),
        }


# --- which rounds ------------------------------------------------------------------------


def rounds_in_scope(uow: UnitOfWork, area_id: str, scope: Scope) -> list[AuditRound]:
    """The rounds of the scope, each checked: it includes the area and its audit day is
    recorded (briefing) or it is closed; a year's are those launched within it."""
    area = uow.config.area(area_id)
    if scope.year is None:
        found = [get_round(uow.session, r) for r in scope.round_ids]
    else:
        found = _year_rounds(uow, area_id, scope.year)
        if not found:
            months = describe_year(scope.year, uow.config.board.briefing.year_starts_month)
            raise NotFound(
                f"No round covering {area.name} was launched in {scope.year} ({months}): "
                "there is nothing for its briefing to cover."
            )
    for audit_round in found:
        if area_id not in audit_round.areas:
            raise InvalidState(
                f"Round {audit_round.id} does not include {area.name} (its areas: "
                f"{', '.join(audit_round.areas)}): a briefing of {area.name} covers only "
                "rounds held there."
            )
        if audit_round.status not in READY:
            raise InvalidState(_not_ready(audit_round))
    return found


def _year_rounds(uow: UnitOfWork, area_id: str, year: str) -> list[AuditRound]:
    first, last = board_year(year, uow.config.board.briefing.year_starts_month)
    launched = uow.session.scalars(
        select(AuditRound)
        .where(AuditRound.launched_at.is_not(None), AuditRound.status != RoundStatus.CANCELLED)
        .order_by(AuditRound.id)
    )
    return [
        r
        for r in launched
        if r.launched_at is not None
        and first <= local_date(r.launched_at, uow.timezone) <= last
        and area_id in r.areas
    ]


def _not_ready(audit_round: AuditRound) -> str:
    rid, status = audit_round.id, audit_round.status
    if status == RoundStatus.MODERATION:
        return (
            f"Round {rid} is in moderation: its audit day is not recorded in full yet (every "
            "case's agreed grade and key findings, every finding decided: auditround round "
            f"moderate {rid} FILE); then draft its briefing."
        )
    if status == RoundStatus.CANCELLED:
        return f"Round {rid} was cancelled: there is no briefing of it."
    return (
        f"Round {rid} is {status}: a briefing is drafted once its returns are closed "
        "(auditround round lock) and its audit day is recorded and complete."
    )


# --- drafting and editing ------------------------------------------------------------------


def draft(uow: UnitOfWork, area_id: str, scope: Scope) -> BriefingVersion:
    """A new draft version of the area's briefing, built from the audit day's record, with
    the progress of the area's earlier actions (:mod:`audit_core.services.carry_over`)."""
    found = rounds_in_scope(uow, area_id, scope)
    round_ids = [r.id for r in found]
    records = [_round_record(uow, r, area_id) for r in found]
    content = build(
        uow.config,
        area_id=area_id,
        scope=scope.key,
        period=period_label(scope, round_ids),
        rounds=records,
    )
    content = dataclasses.replace(content, actions=earlier_actions(uow, area_id, found, scope.key))
    try:
        from_data(to_data(content), f"the audit day's record ({', '.join(round_ids)})")
    except BriefingFileError as exc:
        headline = (
            "The briefing was not drafted: the audit day's record (or an earlier round's "
            "action) holds text a briefing cannot print; correct it there"
        )
        raise BriefingFileError(exc.problems, headline) from None
    return _new_version(uow, area_id, scope.key, round_ids, content, "drafted", "")


def edit(
    uow: UnitOfWork,
    area_id: str,
    scope: Scope,
    content: BriefingContent,
    note: str = "",
    *,
    source: str = "the edited briefing",
) -> BriefingVersion:
    """A new draft version from edited content (approved and issued versions never change).

    The content must be of the same area, scope and rounds as the latest version."""
    latest = _latest(uow, area_id, scope.key)
    round_ids = list(latest.round_ids)
    problems = []
    if content.area_id != area_id:
        problems.append(Problem(source, "area_id", f"must be {area_id}, the briefing's area"))
    if content.scope != scope.key:
        problems.append(Problem(source, "scope", f"must be {scope.key}, the briefing's scope"))
    if [r.round_id for r in content.rounds] != round_ids:
        problems.append(
            Problem(
                source,
                "rounds",
                f"must be the rounds {', '.join(round_ids)}, in that order (a briefing of "
                "other rounds is drafted anew)",
            )
        )
    if len(note) > NOTE_LIMIT:
        problems.append(Problem(source, "note", f"at most {NOTE_LIMIT} characters"))
    if problems:
        raise BriefingFileError(problems)
    return _new_version(uow, area_id, scope.key, round_ids, content, "edited", note.strip())


def _new_version(
    uow: UnitOfWork,
    area_id: str,
    scope_key: str,
    round_ids: list[str],
    content: BriefingContent,
    action: str,
    note: str,
) -> BriefingVersion:
    """Version n + 1, a draft; nothing new when the latest version has this content."""
    data = to_data(content)
    latest = _latest_or_none(uow, area_id, scope_key)
    if latest is not None and latest.content == data and latest.round_ids == round_ids:
        return BriefingVersion.of(latest, changed=False)
    row = Briefing(
        area_id=area_id,
        scope=scope_key,
        round_ids=round_ids,
        version=(latest.version if latest else 0) + 1,
        status=BriefingStatus.DRAFT,
        content=data,
        note=note or ("drafted from the audit day's record" if action == "drafted" else ""),
        created_at=uow.now,
        created_by=uow.actor,
    )
    uow.session.add(row)
    _flush(uow, area_id, scope_key)
    uow.record(
        f"briefing_{action}",
        "briefing",
        row.id,
        round_id=_event_round(round_ids),
        details={**_facts(row), **_counts(content)},
    )
    return BriefingVersion.of(row)


def _round_record(uow: UnitOfWork, audit_round: AuditRound, area_id: str) -> RoundRecord:
    """What the audit day recorded for the area's cases in the round, and its findings."""
    cases = uow.session.execute(
        select(CaseModeration.summary, CaseModeration.agreed_grade)
        .join(RoundCase, RoundCase.id == CaseModeration.round_case_id)
        .join(CaseFile, CaseFile.id == RoundCase.case_id)
        .where(RoundCase.round_id == audit_round.id, RoundCase.area_id == area_id)
        .order_by(CaseFile.reference)  # the audit day's order
    ).all()
    findings = uow.session.scalars(
        select(Finding)
        .where(Finding.round_id == audit_round.id, Finding.forward.is_(True))
        .order_by(Finding.position, Finding.id)
    )
    focus = next((f for f in uow.config.focuses if f.id == audit_round.focus_id), None)
    return RoundRecord(
        round_id=audit_round.id,
        focus_name=focus.name if focus else audit_round.focus_id,
        period=describe_period(period_of(audit_round.id)),
        cases=tuple(ModeratedCase(summary or "", grade) for summary, grade in cases),
        findings=tuple(
            FindingRecord(
                kind=f.kind,
                theme_id=f.theme_id,
                text=f.text,
                key_phrase=f.key_phrase or "",
                case_refs=tuple(f.case_refs or ()),
                forward=f.forward,
                recurring=f.recurring,
            )
            for f in findings
        ),
    )


# --- approving and issuing -------------------------------------------------------------------


def approve(
    uow: UnitOfWork, area_id: str, scope: Scope, version: int | None = None
) -> BriefingVersion:
    """Approve the latest version, a draft (``version``, if given, must be it: the one read)."""
    row = _latest(uow, area_id, scope.key)
    what = _what(uow, row)
    if version is not None and version != row.version:
        raise InvalidState(
            f"Version {version} is not the latest of {_name(uow, row)} (version "
            f"{row.version} is): read the latest, then approve it."
        )
    if row.status == BriefingStatus.APPROVED:
        return BriefingVersion.of(row, changed=False)
    if row.status == BriefingStatus.ISSUED:
        raise InvalidState(
            f"{what} was issued already; a correction is a new version (edit it, then approve "
            "and issue that one)."
        )
    if uow.config.board.briefing.second_approver and same_person(row.created_by, uow.actor):
        raise InvalidState(
            f"{what} was written by {row.created_by}: someone else must approve it (the "
            "board's briefings need a second approver); anyone but "
            f"{row.created_by} may."
        )
    _move(uow, row, BriefingStatus.APPROVED, approved_at=uow.now, approved_by=uow.actor)
    uow.record(
        "briefing_approved",
        "briefing",
        row.id,
        round_id=_event_round(row.round_ids),
        details=_facts(row),
    )
    return BriefingVersion.of(row)


def same_person(writer: str, approver: str) -> bool:
    """Whether two actors are one person: the same name, from the command line
    (``cli:amara``) or the dashboard (``portal:amara``) alike."""
    return _person(writer) == _person(approver)


def _person(actor: str) -> str:
    channel, _, name = actor.partition(":")
    return (name if channel in ("cli", "portal") and name else actor).strip().casefold()


def issue(
    uow: UnitOfWork, area_id: str, scope: Scope, renderer: BriefingRenderer
) -> IssuedBriefing:
    """Issue the latest version (approved): render, keep, freeze, email, close rounds.

    Issued already: nothing is sent or changed, and the layouts are rendered again from
    the issued content, for the files."""
    row = _latest(uow, area_id, scope.key)
    what, content = _what(uow, row), _content(row)
    if row.status == BriefingStatus.ISSUED:
        documents = tuple(renderer.render(content, layout=layout) for layout in LAYOUTS)
        unchanged = BriefingVersion.of(row, changed=False)
        return IssuedBriefing(unchanged, documents, True, None, (), None, ())
    if row.status != BriefingStatus.APPROVED:
        raise InvalidState(
            f"{what} is a draft: it is issued once approved (auditround briefing approve)."
        )
    recipients = uow.config.board.briefing.distribution
    if not recipients:
        raise InvalidState(
            "Nobody would receive the briefing: board.briefing.distribution in board.yaml "
            "names no address; add the practitioners' and the board's lists, then issue it."
        )
    documents = tuple(renderer.render(content, layout=layout) for layout in LAYOUTS)
    full = documents[0]
    _move(
        uow,
        row,
        BriefingStatus.ISSUED,
        html=full.html,
        pdf_sha256=hashlib.sha256(full.pdf).hexdigest(),
        issued_at=uow.now,
        issued_by=uow.actor,
    )
    corrects = _issued_before(uow, row)
    queued = outbox.queue(uow, _email(uow, row, content, corrects, full.pdf))
    uow.record(
        "briefing_issued",
        "briefing",
        row.id,
        round_id=_event_round(row.round_ids),
        details={
            **_facts(row),
            "pdf_sha256": row.pdf_sha256,
            "corrects": corrects,
            "outbox_message": queued.id,
            "to": list(recipients),
        },
    )
    closed = close_covered_rounds(uow, row.round_ids)
    return IssuedBriefing(
        BriefingVersion.of(row), documents, False, queued.id, tuple(recipients), corrects, closed
    )


def _issued_before(uow: UnitOfWork, row: Briefing) -> int | None:
    """The latest version issued before this one, which this one corrects (if any)."""
    return uow.session.scalar(
        select(Briefing.version)
        .where(
            Briefing.area_id == row.area_id,
            Briefing.scope == row.scope,
            Briefing.status == BriefingStatus.ISSUED,
            Briefing.version < row.version,
        )
        .order_by(Briefing.version.desc())
        .limit(1)
    )


def _email(
    uow: UnitOfWork, row: Briefing, content: BriefingContent, corrects: int | None, pdf: bytes
) -> outbox.Draft:
    """The issued briefing's email to the distribution list, the full PDF attached."""
    config = uow.config
    unit = config.board.business_unit
    filename = out_name(row.area_id, row.scope, "briefing", "pdf")
    letter = Letter(
        template="briefing_issued",
        context={
            "board_name": config.board.name,
            "business_unit": emails.business_unit(config),
            "title": content.title,
            "area_name": content.area_name,
            "period": content.period,
            "scope": row.scope,
            "foci": list(content.foci),
            "themes": list(content.themes),
            "cases": sum(len(r.cases) for r in content.rounds),
            "version": row.version,
            "corrects": corrects,
            "issued_on": uow.today,
            "filename": filename,
        },
        to=list(config.board.briefing.distribution),
        reply_to=(unit.name, unit.email),
        files=[FileAttachment(filename, "application/pdf", pdf)],
    )
    key = f"briefing:{row.area_id}:{row.scope}:v{row.version}"
    return outbox.Draft(key, KIND, letter, round_id=row.round_ids[-1])


def close_covered_rounds(uow: UnitOfWork, round_ids: list[str]) -> tuple[str, ...]:
    """Close each of these rounds, at its briefing, whose every area now has an issued
    briefing covering it; the rounds closed."""
    uow.session.flush()
    covered: dict[str, set[str]] = {}
    for area_id, ids in uow.session.execute(
        select(Briefing.area_id, Briefing.round_ids).where(Briefing.status == BriefingStatus.ISSUED)
    ):
        for rid in ids:
            covered.setdefault(rid, set()).add(area_id)
    closed = []
    for rid in round_ids:
        audit_round = get_round(uow.session, rid)
        if audit_round.status != RoundStatus.BRIEFING:
            continue
        if not set(audit_round.areas) <= covered.get(rid, set()):
            continue
        was = audit_round.status
        audit_round.close(uow.now)
        uow.flush_round(audit_round, was)
        uow.record(
            "round_closed",
            "audit_round",
            rid,
            round_id=rid,
            details={"briefings_issued": sorted(audit_round.areas)},
        )
        closed.append(rid)
    return tuple(closed)


# --- reading ---------------------------------------------------------------------------------


def versions(uow: UnitOfWork, area_id: str, scope: Scope) -> list[BriefingVersion]:
    """Every version of the area's briefing over the scope, the first first."""
    uow.config.area(area_id)
    return [BriefingVersion.of(row) for row in _rows(uow, area_id, scope.key)]


def every_version(uow: UnitOfWork, area_id: str | None = None) -> list[BriefingVersion]:
    """Every version of every briefing (of one area, if given), by area, scope and version."""
    query = select(Briefing).order_by(Briefing.area_id, Briefing.scope, Briefing.version)
    if area_id is not None:
        uow.config.area(area_id)
        query = query.where(Briefing.area_id == area_id)
    return [BriefingVersion.of(row) for row in uow.session.scalars(query)]


def show(
    uow: UnitOfWork, area_id: str, scope: Scope, version: int | None = None
) -> BriefingVersion:
    """One version (the latest unless ``version`` is given), with its content."""
    if version is None:
        return BriefingVersion.of(_latest(uow, area_id, scope.key))
    for row in _rows(uow, area_id, scope.key):
        if row.version == version:
            return BriefingVersion.of(row)
    raise NotFound(
        f"There is no version {version} of the {uow.config.area(area_id).name} briefing "
        f"{scope.key} (auditround briefing list shows its versions)."
    )


def _rows(uow: UnitOfWork, area_id: str, scope_key: str) -> list[Briefing]:
    return list(
        uow.session.scalars(
            select(Briefing)
            .where(Briefing.area_id == area_id, Briefing.scope == scope_key)
            .order_by(Briefing.version)
        )
    )


def _latest_or_none(uow: UnitOfWork, area_id: str, scope_key: str) -> Briefing | None:
    rows = _rows(uow, area_id, scope_key)
    return rows[-1] if rows else None


def _latest(uow: UnitOfWork, area_id: str, scope_key: str) -> Briefing:
    row = _latest_or_none(uow, area_id, scope_key)
    if row is None:
        name = uow.config.area(area_id).name
        raise NotFound(
            f"There is no {name} briefing {scope_key} yet: draft one first (auditround "
            "briefing draft)."
        )
    return row


def _content(row: Briefing) -> BriefingContent:
    return from_data(row.content, f"version {row.version} of briefing {row.area_id} {row.scope}")


def _name(uow: UnitOfWork, row: Briefing) -> str:
    """'the Hackney briefing 2026-H1'."""
    return f"the {uow.config.area(row.area_id).name} briefing {row.scope}"


def _what(uow: UnitOfWork, row: Briefing) -> str:
    """'Version 2 of the Hackney briefing 2026-H1' (the subject of a message)."""
    return f"Version {row.version} of {_name(uow, row)}"


def _move(uow: UnitOfWork, row: Briefing, status: BriefingStatus, **values: Any) -> None:
    """Move the version on from the status it was read with, and only from it: of two
    commands that approve or issue it at once, the second changes (and sends) nothing."""
    was = row.status
    moved = uow.session.execute(
        update(Briefing)
        .where(Briefing.id == row.id, Briefing.status == was)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentChange(
            f"{_what(uow, row)} was changed by another command at the same moment (it is no "
            f"longer {was}); nothing was changed by this one."
        )
    uow.session.refresh(row)


def _flush(uow: UnitOfWork, area_id: str, scope_key: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError:
        raise ConcurrentChange(
            f"Another version of briefing {area_id} {scope_key} was written at the same "
            "moment; nothing was changed by this one: look at the versions and try again."
        ) from None


def _facts(row: Briefing) -> dict[str, Any]:
    return {
        "area": row.area_id,
        "scope": row.scope,
        "version": row.version,
        "rounds": list(row.round_ids),
    }


def _counts(content: BriefingContent) -> dict[str, int]:
    """How much the version holds (never its text)."""
    return {
        "cases": sum(len(r.cases) for r in content.rounds),
        "strengths": sum(len(g.items) for r in content.rounds for g in r.strengths),
        "lessons": sum(len(r.lessons) for r in content.rounds),
    }


def _event_round(round_ids: list[str] | tuple[str, ...]) -> str | None:
    """The round an event is filed under: the scope's only round (none for several)."""
    return round_ids[0] if len(round_ids) == 1 else None


def _when_by(at: dt.datetime | None, by: str | None) -> dict[str, str | None] | None:
    return {"at": at.isoformat(), "by": by} if at is not None else None
