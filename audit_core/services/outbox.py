"""The outbox: every email is queued here, rendered once, and later sent by the dispatcher.

A message's life::

    queued ──claim──> sending ──accepted──> sent
       ^                 │
       └──4xx / drop─────┤ (attempts left: wait base * 2**(attempts-1), capped)
                         └──5xx, or out of attempts──> failed (the business unit is told)

* **Queue** (:func:`queue`, :func:`queue_many`): a :class:`Draft` names its unique
  dedupe key (``task:<assignment>``, ``nomination:<assignment>``,
  ``launch-summary:<round>``, ``reminder:<assignment>:<step>``,
  ``escalation:<assignment>:<level>``, ``alert:outbox:<message>[:<n>]``). A key already
  in the outbox is not queued again, and its letter is never composed. The stored
  bytes are exactly what the server will receive.
* **Send**: the dispatcher (:mod:`audit_core.adapters.dispatcher`) claims, sends and
  marks messages; when one fails for good it calls :func:`report_failure`.
* **Look after** it: :func:`status`, :func:`show`, :func:`retry`,
  :func:`retry_all_failed`, :func:`due_messages` (for a dry run).

Nothing here talks SMTP: composing goes through the unit of work's
:class:`~audit_core.services.ports.Mail`, sending is the dispatcher's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from itertools import groupby
from typing import Any

from sqlalchemy import Text, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from audit_core.domain.errors import InvalidState, NotFound
from audit_core.domain.models import OutboxBody, OutboxMessage, OutboxStatus
from audit_core.services import emails
from audit_core.services.ports import Composed, Letter
from audit_core.services.queries import get_round, messages_by_key
from audit_core.services.unit_of_work import UnitOfWork

ALERT_KIND = "alert"


@dataclass(frozen=True)
class Draft:
    """An email to queue: its dedupe key, its kind, the letter, and what it is about."""

    dedupe_key: str
    kind: str
    letter: Letter
    round_id: str | None = None
    assignment_id: int | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class Queued:
    id: int
    dedupe_key: str
    message_id: str
    created: bool  # False: the dedupe key was already in the outbox; nothing was added


def find(session: Session, dedupe_key: str) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).one_or_none()


def queue(uow: UnitOfWork, draft: Draft) -> Queued:
    """Compose and store ``draft`` once; a second call with the same dedupe key does nothing."""
    return queue_many(uow, [draft])[0]


def queue_many(uow: UnitOfWork, drafts: Sequence[Draft]) -> list[Queued]:
    """Queue several drafts at once: one look-up, then the new ones in bulk statements.

    1. Find which dedupe keys are in the outbox already; those drafts are left as they are.
    2. Compose each new draft once, at ``uow.now`` (its Date header).
    3. Insert the messages (their ids returned), their bodies, and one ``queued`` audit
       event each. Of two writers racing on one key, the later one finds the earlier
       one's message at its insert (``ON CONFLICT DO NOTHING`` on ``dedupe_key``) and takes
       it: one message, and no error.
    """
    mail = uow.mailer()
    known = {
        key: (row.id, row.message_id)
        for key, row in messages_by_key(uow.session, [d.dedupe_key for d in drafts]).items()
    }
    new: dict[str, Draft] = {}  # the first draft of each key not in the outbox yet
    for draft in drafts:
        if draft.dedupe_key not in known:
            new.setdefault(draft.dedupe_key, draft)
    rows, bodies = [], []
    for draft in new.values():
        composed = mail.composer.compose(
            draft.letter, dedupe_key=draft.dedupe_key, mail_from=mail.mail_from, date=uow.now
        )
        bodies.append(composed.raw)
        rows.append(_row(draft, composed, uow.now))
    inserted = _insert(uow.session, rows, bodies)
    raced = [r["dedupe_key"] for r in rows if r["dedupe_key"] not in inserted]
    for key, row in messages_by_key(uow.session, raced).items():  # queued by another, just now
        known[key] = (row.id, row.message_id)
        del new[key]
    rows = [r for r in rows if r["dedupe_key"] in inserted]
    ids = [inserted[r["dedupe_key"]] for r in rows]
    for row, message_id in zip(rows, ids, strict=True):
        known[row["dedupe_key"]] = (message_id, row["message_id"])
    for round_id, run in groupby(zip(rows, ids, strict=True), key=lambda pair: pair[0]["round_id"]):
        uow.record_many(
            "queued",
            "outbox_message",
            [
                (
                    message_id,
                    {"kind": r["kind"], "dedupe_key": r["dedupe_key"], "to": r["recipients"]},
                )
                for r, message_id in run
            ],
            round_id=round_id,
        )
    created = {id(d) for d in new.values()}
    return [
        Queued(
            id=known[d.dedupe_key][0],
            dedupe_key=d.dedupe_key,
            message_id=known[d.dedupe_key][1],
            created=id(d) in created,
        )
        for d in drafts
    ]


def _row(draft: Draft, composed: Composed, now: dt.datetime) -> dict[str, Any]:
    return {
        "dedupe_key": draft.dedupe_key,
        "kind": draft.kind,
        "message_id": composed.message_id,
        "sender": composed.sender,
        "recipients": list(composed.recipients),
        "subject": composed.subject[:300],
        "round_id": draft.round_id,
        "assignment_id": draft.assignment_id,
        "action_id": draft.action_id,
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "refused_recipients": {},
        "queued_at": now,
    }


def _insert(session: Session, rows: list[dict[str, Any]], bodies: list[bytes]) -> dict[str, int]:
    """Insert the messages and their bodies in two statements; the new ids by dedupe key.

    A key that another transaction queued at the same moment (after this one looked) is
    left out (``ON CONFLICT DO NOTHING``): the caller takes that message as it is.
    """
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(OutboxMessage)
    returned = session.execute(
        statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(
            OutboxMessage.dedupe_key, OutboxMessage.id
        ),
        rows,
    )
    ids = {key: message_id for key, message_id in returned}
    if ids:  # (an empty list would insert one row of nulls)
        raw = {r["dedupe_key"]: body for r, body in zip(rows, bodies, strict=True)}
        session.execute(insert(OutboxBody), [{"id": i, "raw": raw[k]} for k, i in ids.items()])
    return ids


def withdraw(uow: UnitOfWork, dedupe_keys: Sequence[str], *, why: str) -> list[int]:
    """Withdraw the messages of these keys that are still waiting to be sent; their ids.

    A task whose secure link has been retired (the audit was reassigned or declined,
    the round cancelled) must not reach its auditor later with a link that no longer
    works. A message already being sent, or sent, is left as it is.
    """
    rows = (
        uow.session.execute(
            select(OutboxMessage.id, OutboxMessage.round_id).where(
                OutboxMessage.dedupe_key.in_(list(dedupe_keys)),
                OutboxMessage.status == OutboxStatus.QUEUED,
            )
        ).all()
        if dedupe_keys
        else []
    )
    withdrawn = []
    for message_id, round_id in rows:
        changed = uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.QUEUED)
            .values(status=OutboxStatus.WITHDRAWN)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            withdrawn.append(message_id)
            uow.record(
                "withdrawn", "outbox_message", message_id, round_id=round_id, details={"why": why}
            )
    return withdrawn


# --- a message that could not be delivered -------------------------------------------


@dataclass(frozen=True)
class Undelivered:
    """What the dispatcher knows of a message it gave up on."""

    id: int
    kind: str
    recipients: list[str]
    subject: str
    attempts: int
    error: str
    round_id: str | None


def report_failure(uow: UnitOfWork, failed: Undelivered) -> bool:
    """Queue the 'email not delivered' notice to the business unit; True if it is new.

    Each time a message fails for good it gets an alert of its own: the first under
    ``alert:outbox:<message>``, one that failed again after ``outbox retry`` under
    ``alert:outbox:<message>:<n>``. (The dispatcher marks a failure once, so a key is
    never asked for twice for the same failure.) An alert that cannot be delivered
    raises no alert of its own.
    """
    if failed.kind == ALERT_KIND:
        return False
    letter = emails.delivery_alert(
        uow.config,
        {
            "id": failed.id,
            "kind": failed.kind,
            "recipients": failed.recipients,
            "subject": failed.subject,
            "attempts": failed.attempts,
            "error": failed.error,
        },
    )
    draft = Draft(_alert_key(uow, failed.id), ALERT_KIND, letter, round_id=failed.round_id)
    return queue(uow, draft).created


def _alert_key(uow: UnitOfWork, message_id: int) -> str:
    """The dedupe key of the next alert about this message: one for each failure."""
    key, series = f"alert:outbox:{message_id}", 1
    while find(uow.session, key) is not None:
        series += 1
        key = f"alert:outbox:{message_id}:{series}"
    return key


# --- looking after the outbox -------------------------------------------------------


@dataclass(frozen=True)
class MessageSummary:
    id: int
    kind: str
    dedupe_key: str
    status: str
    recipients: list[str]
    subject: str
    attempts: int
    queued_at: dt.datetime
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None
    refused_recipients: dict[str, Any]
    message_id: str
    round_id: str | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> MessageSummary:
        return cls(
            id=row.id,
            kind=row.kind,
            dedupe_key=row.dedupe_key,
            status=row.status,
            recipients=list(row.recipients),
            subject=row.subject,
            attempts=row.attempts,
            queued_at=row.queued_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
            refused_recipients=dict(row.refused_recipients or {}),
            message_id=row.message_id,
            round_id=row.round_id,
        )


@dataclass
class OutboxReport:
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    due_now: int = 0
    next_retry_at: dt.datetime | None = None  # the next queued message not yet due
    oldest_queued_at: dt.datetime | None = None
    failures: list[MessageSummary] = field(default_factory=list)
    partly_refused: list[MessageSummary] = field(default_factory=list)


def status(session: Session, *, now: dt.datetime) -> OutboxReport:
    """Counts by status and kind, what is due, the oldest waiting message, and failures."""
    report = OutboxReport(by_status={s.value: 0 for s in OutboxStatus})
    counts = session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.kind, OutboxMessage.status)
        .order_by(OutboxMessage.kind)
    )
    for kind, state, count in counts:
        report.by_status[state] = report.by_status.get(state, 0) + count
        report.by_kind.setdefault(kind, {})[state] = count
    queued = OutboxMessage.status == OutboxStatus.QUEUED
    report.due_now = (
        session.scalar(select(func.count()).where(queued, OutboxMessage.next_attempt_at <= now))
        or 0
    )
    report.next_retry_at = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            queued, OutboxMessage.next_attempt_at > now
        )
    )
    report.oldest_queued_at = session.scalar(
        select(func.min(OutboxMessage.queued_at)).where(queued)
    )
    report.failures = [
        MessageSummary.of(row)
        for row in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .order_by(OutboxMessage.id)
        )
    ]
    report.partly_refused = [
        MessageSummary.of(row)
        for row in session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENT,
                cast(OutboxMessage.refused_recipients, Text) != "{}",
            )
            .order_by(OutboxMessage.id)
        )
        if row.refused_recipients
    ]
    return report


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    round_id: str | None = None,
    kind: str | None = None,
) -> list[MessageSummary]:
    """Every message (oldest first), or those with this status, of this round, of this kind:
    recipients, kind, state, attempts, next attempt and last error of each."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if status is not None:
        if status not in set(OutboxStatus):
            states = ", ".join(s.value for s in OutboxStatus)
            raise NotFound(f"There is no message status '{status}': use one of {states}.")
        query = query.where(OutboxMessage.status == status)
    if round_id is not None:
        query = query.where(OutboxMessage.round_id == get_round(session, round_id).id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return [MessageSummary.of(row) for row in session.scalars(query)]


@dataclass(frozen=True)
class MessageView:
    summary: MessageSummary
    headers: list[tuple[str, str]]
    text: str
    attachments: list[str]
    raw: bytes


SHOWN_HEADERS = ("Date", "From", "To", "Reply-To", "Subject", "Message-ID")


def get(session: Session, message_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, message_id, populate_existing=True)  # dispatchers change rows
    if row is None:
        raise NotFound(f"There is no message {message_id} in the outbox.")
    return row


def show(session: Session, message_id: int) -> MessageView:
    """The message as its recipient sees it: headers, the text part, attachment names."""
    row = get(session, message_id)
    _refuse_purged(row, "shown")
    parsed = BytesParser(policy=policy.default).parsebytes(row.raw)
    headers = [(name, str(parsed[name])) for name in SHOWN_HEADERS if parsed[name] is not None]
    body = parsed.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    names = [part.get_filename() or "" for part in parsed.iter_attachments()]
    return MessageView(MessageSummary.of(row), headers, text, names, bytes(row.raw))


def _refuse_purged(row: OutboxMessage, what: str) -> None:
    """A message whose bytes the retention purge deleted keeps only its envelope."""
    if row.body_purged_at is not None:
        raise InvalidState(
            f"Message {row.id} cannot be {what}: its content was purged on "
            f"{row.body_purged_at:%d %B %Y} with its round's returns (retention); "
            "'auditround outbox list' still shows who it went to and when."
        )


def retry(uow: UnitOfWork, message_id: int) -> OutboxMessage:
    """Queue a failed message again, now, with a fresh count of attempts (never one sent,
    being sent, withdrawn, or whose content was purged)."""
    row = get(uow.session, message_id)
    if row.status == OutboxStatus.SENT:
        raise InvalidState(f"Message {message_id} was already sent; it is never sent twice.")
    if row.status == OutboxStatus.SENDING:
        raise InvalidState(f"Message {message_id} is being sent right now.")
    _refuse_purged(row, "sent again")
    if row.status == OutboxStatus.WITHDRAWN:
        raise InvalidState(
            f"Message {message_id} was withdrawn: the link it carries was retired (the audit "
            "changed hands, was declined, or its round was cancelled), so it is never sent."
        )
    previous = row.status
    row.status = OutboxStatus.QUEUED
    row.attempts = 0
    row.next_attempt_at = uow.now
    uow.record(
        "retried",
        "outbox_message",
        row.id,
        round_id=row.round_id,
        details={"was": previous, "last_error": row.last_error},
    )
    return row


def retry_all_failed(uow: UnitOfWork) -> list[int]:
    ids = list(
        uow.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.FAILED,
                OutboxMessage.body_purged_at.is_(None),
            )
            .order_by(OutboxMessage.id)
        )
    )
    for message_id in ids:
        retry(uow, message_id)
    return ids


@dataclass(frozen=True)
class DueMessage:
    id: int
    kind: str
    raw: bytes


def due_messages(
    session: Session, *, now: dt.datetime, limit: int | None = None
) -> list[DueMessage]:
    """The messages a dispatch would send now, in order, with their bytes (changes nothing)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .options(selectinload(OutboxMessage.body))
    )
    return [DueMessage(row.id, row.kind, bytes(row.raw)) for row in session.scalars(query)]
