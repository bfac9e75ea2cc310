"""The outbox: every email is queued here, rendered once, and sent by a dispatcher.

A message's life::

    queued ──claim──> sending ──accepted──> sent
       ^                 │
       └──4xx / drop─────┤ (attempts left: wait base * 2**(attempts-1), capped)
                         └──5xx, or out of attempts──> failed (the business unit is told)

* **Queue** (:func:`queue`): a :class:`Draft` names its unique dedupe key
  (``task:<assignment>``, ``nomination:<assignment>``, ``launch-summary:<round>``,
  ``reminder:<assignment>:<step>``, ``escalation:<assignment>:<level>``,
  ``alert:outbox:<message>``). A key already in the outbox is not queued again.
  The stored bytes are exactly what the server receives.
* **Dispatch** (:func:`dispatch`): see its numbered steps; the statements it runs for
  each message live in :mod:`audit_core.outbox_dispatch`. A crash between the
  server's acceptance and the mark leaves the row in ``sending``; after the
  lease (``outbox.lease_seconds``) it is claimed again and resent, with the
  same Message-ID. That is the only way a message can arrive twice.
* **Look after** it: :func:`status`, :func:`show`, :func:`retry`,
  :func:`retry_all_failed`, :func:`write_due` (a dry run into ``.eml`` files).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from audit_core import audit_trail
from audit_core.config import BoardConfig
from audit_core.errors import InvalidState, NotFound
from audit_core.mail import Address, Attachment, compose
from audit_core.models import OutboxBody, OutboxMessage, OutboxStatus
from audit_core.outbox_dispatch import (
    Claimed,
    DispatchResult,
    DispatchRun,
    run_loop,
    tuned_connection,
    worker_name,
)
from audit_core.smtp_settings import SmtpSettings
from audit_core.smtp_transport import SmtpTransport, Transport

ALERT_KIND = "alert"

Attachments = Sequence[Attachment] | Callable[[], Sequence[Attachment]]


@dataclass(frozen=True)
class Draft:
    """An email to queue: which template, with what data, to whom, and its dedupe key."""

    dedupe_key: str
    kind: str
    template: str
    context: Mapping[str, Any]
    to: Sequence[Address]
    reply_to: Address | None = None
    attachments: Attachments = ()  # or a function, called only if the message is new
    round_id: str | None = None
    assignment_id: int | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class Queued:
    message: OutboxMessage
    created: bool  # False: the dedupe key was already in the outbox; nothing was added


def find(session: Session, dedupe_key: str) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).one_or_none()


def queue(
    session: Session, draft: Draft, *, mail_from: str, now: dt.datetime, actor: str
) -> Queued:
    """Render and store ``draft`` once; a second call with the same dedupe key does nothing.

    Two writers racing on one key are stopped by the unique constraint on
    ``dedupe_key`` (the later transaction fails as a whole and can be re-run).
    """
    existing = find(session, draft.dedupe_key)
    if existing is not None:
        return Queued(existing, created=False)
    attachments = draft.attachments() if callable(draft.attachments) else draft.attachments
    composed = compose(
        template=draft.template,
        context=draft.context,
        dedupe_key=draft.dedupe_key,
        mail_from=mail_from,
        to=draft.to,
        reply_to=draft.reply_to,
        date=now,
        attachments=attachments,
    )
    message = OutboxMessage(
        dedupe_key=draft.dedupe_key,
        kind=draft.kind,
        message_id=composed.message_id,
        sender=composed.sender,
        recipients=list(composed.recipients),
        subject=composed.subject[:300],
        body=OutboxBody(raw=composed.raw),
        round_id=draft.round_id,
        assignment_id=draft.assignment_id,
        action_id=draft.action_id,
        status=OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        refused_recipients={},
        queued_at=now,
    )
    session.add(message)
    session.flush()
    audit_trail.record(
        session,
        now=now,
        actor=actor,
        action="queued",
        object_type="outbox_message",
        object_id=message.id,
        round_id=draft.round_id,
        details={
            "kind": draft.kind,
            "dedupe_key": draft.dedupe_key,
            "to": list(composed.recipients),
        },
    )
    return Queued(message, created=True)


# --- dispatch ----------------------------------------------------------------------


def dispatch(
    session_factory: sessionmaker[Session],
    settings: SmtpSettings,
    *,
    config: BoardConfig,
    now: dt.datetime,
    worker: str | None = None,
    limit: int | None = None,
    transport: Transport | None = None,
) -> DispatchResult:
    """Send what is due, one message at a time, over one reused SMTP connection.

    1. Find due messages: ``queued`` with ``next_attempt_at <= now``, or ``sending``
       claimed before ``now - lease`` (a dispatcher that died); in id order, a batch at a time.
    2. Claim one with a conditional UPDATE (status, claimer, attempts + 1) and commit;
       if no row changed, another dispatcher has it: skip.
    3. Send the stored bytes (the connection is opened once and reopened after a failure).
    4. Mark it: ``sent`` (recording refused recipients), committed before the content of
       the next message is sent; or at once ``queued`` again with a backoff (connection
       errors, 4xx) or ``failed`` (5xx, or ``max_attempts`` reached), which also queues
       an alert to the business unit.
    5. Stop at ``limit``, when nothing is due, or when the server cannot be reached.

    The claims and marks use one database connection for the whole run, and run while
    the server is busy with a message (:func:`audit_core.outbox_dispatch.run_loop`): the
    next message is claimed while the server takes in the current one. On SQLite the
    commits skip the disk flush (``synchronous=NORMAL``, safe in WAL mode): a crashed
    process loses nothing, and a power cut could at worst lose the last marks, so those
    messages would be sent again, with the same Message-ID.
    """
    worker = worker or worker_name()
    owns_transport = transport is None
    if transport is None:
        settings.check_sending()
        transport = SmtpTransport(settings)
    engine = session_factory.kw.get("bind")
    if engine is None:
        raise TypeError("dispatch needs a session factory bound to an engine")
    result = DispatchResult()
    alert = functools.partial(_alert, config=config, settings=settings)
    try:
        with engine.connect() as conn, tuned_connection(conn):
            run = DispatchRun(conn, worker, now, config.board.outbox, alert, result, limit)
            try:
                run_loop(run, transport)
            finally:
                run.finish()
    finally:
        if owns_transport:
            transport.close()
    return result


def _alert(
    session: Session,
    claimed: Claimed,
    error: str,
    now: dt.datetime,
    *,
    config: BoardConfig,
    settings: SmtpSettings,
) -> bool:
    """Queue the 'email not delivered' notice to the business unit (never about an alert)."""
    if claimed.kind == ALERT_KIND:
        return False
    unit = config.board.business_unit
    draft = Draft(
        dedupe_key=f"alert:outbox:{claimed.id}",
        kind=ALERT_KIND,
        template="outbox_alert",
        context={
            "board_name": config.board.name,
            "business_unit": {"name": unit.name, "email": unit.email, "phone": unit.phone},
            "failed": {
                "id": claimed.id,
                "kind": claimed.kind,
                "recipients": claimed.recipients,
                "subject": claimed.subject,
                "attempts": claimed.attempts,
                "error": error,
            },
        },
        to=[(unit.name, unit.email)],
        round_id=claimed.round_id,
    )
    queued = queue(session, draft, mail_from=settings.mail_from, now=now, actor="dispatcher")
    return queued.created


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
        )


@dataclass
class OutboxReport:
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    due_now: int = 0
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
    parsed = BytesParser(policy=policy.default).parsebytes(row.raw)
    headers = [(name, str(parsed[name])) for name in SHOWN_HEADERS if parsed[name] is not None]
    body = parsed.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    names = [part.get_filename() or "" for part in parsed.iter_attachments()]
    return MessageView(MessageSummary.of(row), headers, text, names, bytes(row.raw))


def retry(session: Session, message_id: int, *, now: dt.datetime, actor: str) -> OutboxMessage:
    """Queue a failed message again, now, with a fresh count of attempts."""
    row = get(session, message_id)
    if row.status == OutboxStatus.SENT:
        raise InvalidState(f"Message {message_id} was already sent; it is never sent twice.")
    if row.status == OutboxStatus.SENDING:
        raise InvalidState(f"Message {message_id} is being sent right now.")
    previous = row.status
    row.status = OutboxStatus.QUEUED
    row.attempts = 0
    row.next_attempt_at = now
    audit_trail.record(
        session,
        now=now,
        actor=actor,
        action="retried",
        object_type="outbox_message",
        object_id=row.id,
        round_id=row.round_id,
        details={"was": previous, "last_error": row.last_error},
    )
    return row


def retry_all_failed(session: Session, *, now: dt.datetime, actor: str) -> list[int]:
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .order_by(OutboxMessage.id)
        )
    )
    for message_id in ids:
        retry(session, message_id, now=now, actor=actor)
    return ids


def write_due(
    session: Session, directory: Path, *, now: dt.datetime, limit: int | None = None
) -> list[Path]:
    """Dry run: write each message that is due to ``<id>-<kind>.eml``; change nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .options(selectinload(OutboxMessage.body))
    )
    written = []
    for row in session.scalars(query):
        path = directory / f"{row.id:06d}-{row.kind}.eml"
        path.write_bytes(row.raw)
        written.append(path)
    return written
