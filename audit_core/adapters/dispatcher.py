"""The dispatcher: claim a due message, send it, mark it; one at a time over one connection.

:func:`dispatch` is one run:

1. Find the due messages, a batch of ids at a time: queued and due, or left in
   ``sending`` by a dispatcher whose lease ran out (it died mid-send).
2. Claim one with a conditional update, so that of two dispatchers only one
   wins it; commit.
3. Send its stored bytes over the reused SMTP connection.
4. Mark it, fenced: only while this run still holds the claim (a run that lost
   it, because it ran past the lease and another dispatcher took the message
   over, logs that and leaves the message alone). Sent; or queued again after a
   temporary failure, with a doubling wait; or failed for good, with an alert
   queued for the business unit in the same transaction.

The database work is done while the server is busy, in short transactions of
its own: the next message is claimed while the server takes in this one's
content, and this one's mark is committed while the server answers the next
one's MAIL FROM, so before the next content goes out. At any moment at most one
message has been accepted by the server and not yet marked; a crash there
sends that one again after the lease, with the same Message-ID. The clock is
read at each claim and each mark.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from audit_core.adapters.smtp_transport import SendFailure, Transport
from audit_core.domain.models import AuditEvent, OutboxBody, OutboxMessage, OutboxStatus
from audit_core.domain.policy import OutboxPolicy

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0  # temporary failure: queued again for later
    failed: int = 0  # permanent failure, or out of attempts
    skipped: int = 0  # claimed by another dispatcher first
    lost: int = 0  # the claim ran out mid-send and another dispatcher took the message over
    partly_refused: int = 0  # sent, but some recipients were refused
    alerts_queued: int = 0
    stopped: str | None = None  # why the run ended early (the server could not be reached)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class Claimed:
    """A message this run holds: what it needs to send and to mark it."""

    id: int
    kind: str
    sender: str
    recipients: list[str]
    subject: str
    raw: bytes
    attempts: int
    round_id: str | None


# Queues the business unit's notice of a message given up on; True if it is new.
OnFailure = Callable[[Session, Claimed, str, dt.datetime], bool]


def worker_name() -> str:
    """A name unique to this dispatcher process: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int, policy: OutboxPolicy) -> dt.timedelta:
    """How long to wait after the ``attempts``-th temporary failure."""
    seconds = policy.backoff_base_seconds * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, policy.backoff_max_seconds))


def dispatch(
    engine: Engine,
    transport: Transport,
    *,
    policy: OutboxPolicy,
    clock: Clock,
    on_failure: OnFailure,
    worker: str | None = None,
    limit: int | None = None,
) -> DispatchResult:
    """Send what is due, one message at a time (see the module's numbered steps)."""
    result = DispatchResult()
    with engine.connect() as conn:
        run = _Run(conn, worker or worker_name(), policy, clock, on_failure, result, limit)
        try:
            _send_all(run, transport)
        except BaseException:
            with contextlib.suppress(Exception):  # what was accepted is marked, if it can be
                run.commit_mark()
                run.release_ahead()
            raise
        run.commit_mark()
    return result


def _send_all(run: _Run, transport: Transport) -> None:
    claimed = run.claim_next()
    while claimed is not None:
        try:
            refused = transport.send(
                claimed.sender,
                claimed.recipients,
                claimed.raw,
                while_envelope=run.commit_mark,
                while_content=run.claim_ahead,
            )
        except SendFailure as failure:
            run.mark_failed(claimed, failure)
            if failure.connecting:  # nothing was sent, and nothing else can be
                run.result.stopped = failure.detail
                run.release_ahead()
                return
        else:
            run.sent(claimed, refused)
        claimed = run.next_claimed()


# The statements of the loop are built once (it runs them for every message), so that
# SQLAlchemy finds each one's compiled form in its cache at once.
_t: Table = OutboxMessage.__table__  # type: ignore[assignment]
_c = _t.c
_DUE = or_(
    and_(_c.status == OutboxStatus.QUEUED, _c.next_attempt_at <= bindparam("now")),
    and_(_c.status == OutboxStatus.SENDING, _c.claimed_at <= bindparam("stale")),
)
_FIND_DUE = (
    select(_c.id).where(_c.id > bindparam("after"), _DUE).order_by(_c.id).limit(bindparam("batch"))
)
_CLAIM = (
    update(_t)
    .where(_c.id == bindparam("message"), _DUE)
    .values(
        status=OutboxStatus.SENDING,
        claimed_by=bindparam("worker"),
        claimed_at=bindparam("now"),
        attempts=_c.attempts + 1,
    )
    .returning(_c.kind, _c.sender, _c.recipients, _c.subject, _c.attempts, _c.round_id)
)
_BODY = select(OutboxBody.raw).where(OutboxBody.id == bindparam("message"))
_HELD = and_(  # the fence: only the run that holds the claim may mark the message
    _c.id == bindparam("message"),
    _c.status == OutboxStatus.SENDING,
    _c.claimed_by == bindparam("worker"),
)
_MARK_SENT = (
    update(_t)
    .where(_HELD)
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("now"),
        last_error=None,
        refused_recipients=bindparam("refused"),
    )
)
_EVENT = insert(AuditEvent.__table__).values(  # type: ignore[arg-type]
    at=bindparam("now"),
    actor=bindparam("actor"),
    action=bindparam("action"),
    object_type="outbox_message",
    object_id=bindparam("object_id"),
    round_id=bindparam("round_id"),
    details=bindparam("details"),
)


class _Run:
    """The database side of one run: find, claim and mark, on one connection."""

    def __init__(
        self,
        conn: Connection,
        worker: str,
        policy: OutboxPolicy,
        clock: Clock,
        on_failure: OnFailure,
        result: DispatchResult,
        limit: int | None,
    ) -> None:
        self.conn, self.worker, self.policy, self.clock = conn, worker, policy, clock
        self.on_failure, self.result, self.limit = on_failure, result, limit
        self.actor = f"dispatcher:{worker}"
        self.batch: list[int] = []  # due ids not tried yet, in reverse order
        self.after = 0  # the last id tried
        self.tried = 0
        self.ahead: Claimed | None = None  # claimed while the message before it was sent
        self.unmarked: tuple[Claimed, dict[str, str]] | None = None  # accepted, mark to commit

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A short transaction that first marks the message accepted just before, if any."""
        with self.conn.begin():
            if self.unmarked is not None:
                self._mark_sent(*self.unmarked)
                self.unmarked = None
            yield

    def commit_mark(self) -> None:
        """Commit the mark of the message accepted just before, if it is not committed yet."""
        if self.unmarked is not None:
            with self.transaction():
                pass

    def sent(self, claimed: Claimed, refused: Mapping[str, str]) -> None:
        """The server accepted it: its mark is committed before the next content goes out."""
        self.unmarked = (claimed, dict(refused))

    def claim_ahead(self) -> None:
        """While a message is being sent, claim the one to send after it."""
        self.ahead = self.claim_next()

    def next_claimed(self) -> Claimed | None:
        """The message claimed during the last send, or else the next one, claimed now."""
        claimed, self.ahead = self.ahead, None
        return claimed if claimed is not None else self.claim_next()

    def release_ahead(self) -> None:
        """Give back the message claimed ahead and never sent: it is due again at once."""
        claimed, self.ahead = self.ahead, None
        if claimed is not None:
            with self.transaction():
                values = {"status": OutboxStatus.QUEUED, "attempts": claimed.attempts - 1}
                self._fenced(claimed, update(_t).where(_HELD).values(**values), {})

    def _times(self, now: dt.datetime) -> dict[str, dt.datetime]:
        return {"now": now, "stale": now - dt.timedelta(seconds=self.policy.lease_seconds)}

    def claim_next(self) -> Claimed | None:
        """Claim the next due message, skipping those another dispatcher holds (steps 1-2)."""
        with self.transaction():
            return self._claim_next()

    def _claim_next(self) -> Claimed | None:
        while self.limit is None or self.tried < self.limit:
            now = self.clock()
            if not self.batch:
                found = self.conn.scalars(
                    _FIND_DUE,
                    {"after": self.after, "batch": self.policy.batch_size, **self._times(now)},
                )
                self.batch = list(found)[::-1]
                if not self.batch:
                    return None
            self.after = self.batch.pop()
            self.tried += 1
            claimed = self._claim(self.after, now)
            if claimed is not None:
                return claimed
            self.result.skipped += 1
        return None

    def _claim(self, message_id: int, now: dt.datetime) -> Claimed | None:
        values = {"message": message_id, "worker": self.worker, **self._times(now)}
        row = self.conn.execute(_CLAIM, values).one_or_none()
        if row is None:  # another dispatcher claimed it first
            return None
        kind, sender, recipients, subject, attempts, round_id = row
        raw = self.conn.scalar(_BODY, {"message": message_id})
        if raw is None:  # cannot happen (queued together); stop rather than send nothing
            raise LookupError(f"outbox message {message_id} has no stored body")
        return Claimed(
            message_id, kind, sender, list(recipients), subject, bytes(raw), attempts, round_id
        )

    def _fenced(self, claimed: Claimed, statement: Any, values: dict[str, Any]) -> bool:
        """Change the message only if this run still holds its claim; say if it did."""
        changed = self.conn.execute(
            statement, {"message": claimed.id, "worker": self.worker, **values}
        )
        if changed.rowcount == 1:
            return True
        self.result.lost += 1
        log.warning(
            "outbox message %d was taken over by another dispatcher while this one sent it",
            claimed.id,
        )
        return False

    def _event(
        self, claimed: Claimed, now: dt.datetime, action: str, details: dict[str, Any]
    ) -> None:
        self.conn.execute(
            _EVENT,
            {
                "now": now,
                "actor": self.actor,
                "action": action,
                "object_id": str(claimed.id),
                "round_id": claimed.round_id,
                "details": details,
            },
        )

    def _mark_sent(self, claimed: Claimed, refused: Mapping[str, str]) -> None:
        now = self.clock()
        if not self._fenced(claimed, _MARK_SENT, {"now": now, "refused": dict(refused)}):
            return
        details: dict[str, Any] = {"attempts": claimed.attempts}
        if refused:
            details["refused"] = dict(refused)
            self.result.partly_refused += 1
        self._event(claimed, now, "sent_partly" if refused else "sent", details)
        self.result.sent += 1

    def mark_failed(self, claimed: Claimed, failure: SendFailure) -> None:
        with self.transaction():
            self._mark_failed(claimed, failure)

    def _mark_failed(self, claimed: Claimed, failure: SendFailure) -> None:
        now = self.clock()
        give_up = not failure.temporary or claimed.attempts >= self.policy.max_attempts
        error = failure.detail
        if failure.temporary and give_up:
            error = f"gave up after {claimed.attempts} attempts; last: {failure.detail}"
        values: dict[str, Any] = {"last_error": error[:2000], "refused_recipients": failure.refused}
        if give_up:
            values["status"] = OutboxStatus.FAILED
        else:
            values["status"] = OutboxStatus.QUEUED
            values["next_attempt_at"] = now + backoff(claimed.attempts, self.policy)
        if not self._fenced(claimed, update(_t).where(_HELD).values(**values), {}):
            return
        if not give_up:
            self.result.retrying += 1
            return
        self.result.failed += 1
        details = {"error": error, "attempts": claimed.attempts, "code": failure.code}
        self._event(claimed, now, "failed", details)
        with Session(bind=self.conn) as session:  # joins this run's transaction
            if self.on_failure(session, claimed, error, now):
                self.result.alerts_queued += 1
            session.flush()
