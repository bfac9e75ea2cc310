"""The retention purge: ``auditround retention run`` and the flow ``purge-expired-returns``.

:func:`purge_expired` takes, in one transaction, what a round that ended more than
``board.retention.returns_months`` ago no longer needs (the rules:
:mod:`audit_core.domain.retention`):

1. The rounds that have ended (closed, or cancelled) and, of those, the ones due today.
2. Each due round not purged before is claimed (its ``purged_at`` set by a conditional
   update, so of two runs at once only one purges it). Its returns keep their grades and
   the themes of their strengths and lessons, and lose every word of free text and the
   description of any concern; its declined audits lose the reason given; the findings
   the audit day kept back from the briefing (the auditors' words, unchecked) lose their
   wording; its cases' audit-day notes lose their key findings. What went forward to the
   briefing (its findings, the cases' summaries), the agreed grades, the briefings and
   every action with its updates stay.
3. The emails about due rounds that are no longer waiting to be sent (sent, failed or
   withdrawn) lose their bytes (the ``outbox_body`` row), each claimed by a conditional
   update of its ``body_purged_at``; their envelope stays. The briefings' emails (the
   briefing as issued, no link) and the actions' emails (the action record) keep theirs.
4. One ``retention_purged`` event per round claimed or with anything purged, with the
   counts only.

Running it again purges nothing more. With ``dry_run`` nothing is written and nothing
recorded: the same counts say what would go.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, delete, or_, select, update

from audit_core.domain.models import (
    ActionChaseStep,
    Assignment,
    AuditReturn,
    AuditRound,
    CaseModeration,
    ChaseRecord,
    Finding,
    OutboxBody,
    OutboxMessage,
    OutboxStatus,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.retention import (
    PurgeReport,
    RoundPurge,
    RoundSpan,
    Waiting,
    bytes_may_go,
    is_due,
    message_rounds,
    purge_from,
    strip_return,
)
from audit_core.domain.workdays import local_date
from audit_core.services.action_digest import DIGEST_KIND as ACTION_DIGEST_KIND
from audit_core.services.action_follow_up import ESCALATION_KIND, REMINDER_KIND
from audit_core.services.action_links import LINK_KIND
from audit_core.services.briefings import KIND as BRIEFING_KIND
from audit_core.services.unit_of_work import UnitOfWork

EVENT = "retention_purged"
# Emails whose bytes the purge keeps: the briefing as issued, and the action record's.
KEPT_KINDS = (BRIEFING_KIND, LINK_KIND, REMINDER_KIND, ESCALATION_KIND, ACTION_DIGEST_KIND)
DONE = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.WITHDRAWN)
CHUNK = 500  # ids in one IN (...), well inside SQLite's limit on bound values


def purge_expired(uow: UnitOfWork, *, dry_run: bool = False) -> PurgeReport:
    """Purge what the rounds past their retention no longer need (or, with ``dry_run``,
    say what would go and write nothing)."""
    months = uow.config.board.retention.returns_months
    rounds = list(uow.session.scalars(select(AuditRound).order_by(AuditRound.id)))
    ended = {r.id: end for r in rounds if (end := _ended_at(r)) is not None}
    ends = {rid: local_date(at, uow.timezone) for rid, at in ended.items()}
    due = {rid for rid, on in ends.items() if is_due(on, months, uow.today)}
    purges = {
        r.id: RoundPurge(
            r.id,
            r.status,
            ends[r.id],
            purge_from(ends[r.id], months),
            returns_purged_before=r.purged_at is not None,
        )
        for r in rounds
        if r.id in due
    }
    claimed: set[str] = set()  # the rounds whose returns are purged now (even of nothing)
    for r in rounds:
        if r.id in due and r.purged_at is None and (dry_run or _claim(uow, r.id)):
            _strip_round(uow, purges[r.id], write=not dry_run)
            claimed.add(r.id)
    spans = [RoundSpan(r.id, r.launched_at, ended.get(r.id)) for r in rounds]
    _purge_bodies(uow, purges, spans, ended, write=not dry_run)
    done = tuple(p for p in purges.values() if p.anything or p.round_id in claimed)
    if not dry_run:
        for p in done:
            uow.record(EVENT, "audit_round", p.round_id, round_id=p.round_id, details=p.counts())
    waiting = tuple(
        Waiting(rid, on, purge_from(on, months))
        for rid, on in sorted(ends.items(), key=lambda item: (item[1], item[0]))
        if rid not in due
    )
    return PurgeReport(uow.today, months, dry_run, done, waiting)


def _ended_at(audit_round: AuditRound) -> dt.datetime | None:
    if audit_round.status == RoundStatus.CLOSED:
        return audit_round.closed_at
    if audit_round.status == RoundStatus.CANCELLED:
        return audit_round.cancelled_at
    return None


def _claim(uow: UnitOfWork, round_id: str) -> bool:
    """Mark the round's returns purged now, unless another run did first."""
    claimed = uow.session.execute(
        update(AuditRound)
        .where(AuditRound.id == round_id, AuditRound.purged_at.is_(None))
        .values(purged_at=uow.now)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _strip_round(uow: UnitOfWork, purge: RoundPurge, *, write: bool) -> None:
    """Take the words out of the round's returns, declines, kept-back findings and case
    notes, counting them into ``purge``."""
    session = uow.session
    in_round = select(RoundCase.id).where(RoundCase.round_id == purge.round_id)
    of_round = Assignment.round_case_id.in_(in_round)
    for found in session.scalars(
        select(AuditReturn)
        .join(Assignment, Assignment.id == AuditReturn.assignment_id)
        .where(of_round)
    ):
        stripped = strip_return(found.answers, found.strengths, found.lessons)
        purge.returns += 1
        purge.texts += stripped.texts
        purge.concerns += 1 if found.concern_text else 0
        if write:
            found.answers, found.strengths = stripped.answers, stripped.strengths
            found.lessons, found.concern_text = stripped.lessons, None
    for declined in session.scalars(
        select(Assignment).where(of_round, Assignment.declined_reason.is_not(None))
    ):
        purge.declines += 1
        if write:
            declined.declined_reason = None
    for finding in session.scalars(
        select(Finding).where(Finding.round_id == purge.round_id, Finding.forward.is_not(True))
    ):
        if finding.text or finding.key_phrase:
            purge.findings += 1
            if write:
                finding.text, finding.key_phrase = "", ""
    for note in session.scalars(
        select(CaseModeration).where(CaseModeration.round_case_id.in_(in_round))
    ):
        if note.key_findings:
            purge.case_notes += 1
            if write:
                note.key_findings = ""
    if write:
        session.flush()


def _purge_bodies(
    uow: UnitOfWork,
    purges: dict[str, RoundPurge],
    spans: Sequence[RoundSpan],
    ended: dict[str, dt.datetime],
    *,
    write: bool,
) -> None:
    """Delete the bytes of every email about due rounds only, that is not waiting to be
    sent and is neither a briefing's nor an action's; each counted under the last of its
    rounds to end."""
    if not purges:
        return
    due = set(purges)
    actions_emails = select(ActionChaseStep.outbox_message_id).where(
        ActionChaseStep.outbox_message_id.is_not(None)
    )
    candidates = uow.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.round_id,
            OutboxMessage.assignment_id,
            OutboxMessage.queued_at,
        ).where(
            OutboxMessage.body_purged_at.is_(None),
            OutboxMessage.status.in_(DONE),
            OutboxMessage.kind.not_in(KEPT_KINDS),
            OutboxMessage.action_id.is_(None),
            OutboxMessage.id.not_in(actions_emails),
            or_(OutboxMessage.round_id.in_(due), OutboxMessage.round_id.is_(None)),
        )
    ).all()
    named = _rounds_named(uow, candidates)
    going: dict[int, str] = {}
    for message_id, round_id, _, queued_at in candidates:
        rounds = message_rounds([round_id, *named.get(message_id, ())], queued_at, spans)
        if bytes_may_go(rounds, due):
            going[message_id] = max(rounds, key=lambda r: (ended[r], r))
    gone = _delete_bodies(uow, list(going)) if write else list(going)
    for message_id in gone:
        purges[going[message_id]].messages += 1


def _rounds_named(uow: UnitOfWork, candidates: Sequence[Row[Any]]) -> dict[int, set[str]]:
    """The rounds each email names beyond its own: its assignment's, and those of the chase
    steps it was sent for (a grouped escalation names no round of its own)."""
    named: dict[int, set[str]] = defaultdict(set)
    by_assignment = {m: a for m, _, a, _ in candidates if a is not None}
    rounds_of = _round_of_assignments(uow, set(by_assignment.values()))
    for message_id, assignment_id in by_assignment.items():
        if assignment_id in rounds_of:
            named[message_id].add(rounds_of[assignment_id])
    ids = [m for m, _, _, _ in candidates]
    for chunk in _chunks(ids):
        steps = uow.session.execute(
            select(ChaseRecord.outbox_message_id, RoundCase.round_id)
            .join(Assignment, Assignment.id == ChaseRecord.assignment_id)
            .join(RoundCase, RoundCase.id == Assignment.round_case_id)
            .where(ChaseRecord.outbox_message_id.in_(chunk))
        )
        for message_id, round_id in steps:
            named[message_id].add(round_id)
    return named


def _round_of_assignments(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        rows = uow.session.execute(
            select(Assignment.id, RoundCase.round_id)
            .join(RoundCase, RoundCase.id == Assignment.round_case_id)
            .where(Assignment.id.in_(chunk))
        )
        found.update({assignment_id: round_id for assignment_id, round_id in rows})
    return found


def _delete_bodies(uow: UnitOfWork, ids: Sequence[int]) -> list[int]:
    """Mark each message's bytes purged, unless another run did first, and delete them;
    the ids this run purged."""
    gone: list[int] = []
    for chunk in _chunks(sorted(ids)):
        claimed = list(
            uow.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(chunk), OutboxMessage.body_purged_at.is_(None))
                .values(body_purged_at=uow.now)
                .returning(OutboxMessage.id)
            )
        )
        if claimed:
            uow.session.execute(delete(OutboxBody).where(OutboxBody.id.in_(claimed)))
        gone += claimed
    return gone


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])
