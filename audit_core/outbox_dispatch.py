"""The dispatcher's database side: the statements it runs for every message, and one run.

:func:`audit_core.outbox.dispatch` is the use case; this module holds what it
repeats thousands of times, kept lean: statements compiled once and run on the
driver's cursor (:mod:`audit_core.precompiled`), one database connection per
run, and two short transactions per message (its claim; its mark with its audit
event), each run while the mail server is busy with a message (see :func:`run_loop`).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import os
import secrets
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from audit_core.config import OutboxPolicy
from audit_core.models import AuditEvent, OutboxBody, OutboxMessage, OutboxStatus
from audit_core.precompiled import Precompiled, driver_cursor
from audit_core.smtp_transport import SendFailure, Transport


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0  # temporary failure: queued again for later
    failed: int = 0  # permanent failure, or out of attempts
    skipped: int = 0  # claimed by another dispatcher first
    partly_refused: int = 0  # sent, but some recipients were refused
    alerts_queued: int = 0
    stopped: str | None = None  # why the run ended early (the server could not be reached)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class Claimed:
    """A message this dispatcher holds: what it needs to send and to mark it."""

    id: int
    kind: str
    sender: str
    recipients: list[str]
    subject: str
    raw: bytes
    attempts: int
    round_id: str | None


def worker_name() -> str:
    """A name unique to this dispatcher process: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int, outbox_policy: OutboxPolicy) -> dt.timedelta:
    """How long to wait after the ``attempts``-th temporary failure."""
    seconds = outbox_policy.backoff_base_seconds * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, outbox_policy.backoff_max_seconds))


Alert = Callable[[Session, "Claimed", str, dt.datetime], bool]  # queues a notice; True if new


def run_loop(run: DispatchRun, transport: Transport) -> None:
    """Steps 1-5 of :func:`audit_core.outbox.dispatch`, one message at a time.

    The database work is done while the mail server is busy, in this order:

    1. Claim the first due message (and commit).
    2. Send it. While the server answers MAIL FROM, the mark of the message sent
       before is committed, so before this one's content goes out. While the server
       takes in the content, the next message is claimed (and committed).
    3. On the server's answer: remember the mark (accepted), or mark the failure now.
    4. Go on with the message claimed in step 2, or claim one now if there was none
       (the send stopped before its content, or nothing was due at that moment).

    At any time at most one message has been accepted without its mark committed.
    """
    claimed = run.claim_next()
    while claimed is not None:
        try:
            refused = transport.send(
                claimed.sender,
                claimed.recipients,
                claimed.raw,
                before_data=run.mark_sent,
                after_data=run.claim_ahead,
            )
        except SendFailure as failure:
            run.failed(claimed, failure)
            if failure.connecting:  # raised before anything was sent: nothing else is claimed
                run.result.stopped = failure.detail
                return
        else:
            run.sent(claimed, refused)
        claimed = run.next_claimed()


# SQLite settings for the dispatcher's own connection while it runs: commits without a
# disk flush (safe in WAL mode), fewer and larger WAL checkpoints, a bigger page cache.
_SQLITE_TUNING = {"synchronous": "1", "wal_autocheckpoint": "10000", "cache_size": "-65536"}


@contextlib.contextmanager
def tuned_connection(conn: Connection) -> Iterator[None]:
    """On SQLite, tune the run's connection (see above), then restore its settings."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in _SQLITE_TUNING}
    for name, tuned in _SQLITE_TUNING.items():
        conn.exec_driver_sql(f"PRAGMA {name}={tuned}")
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        for name, old in previous.items():
            conn.exec_driver_sql(f"PRAGMA {name}={int(old or 0)}")
        conn.commit()


# The statements of the dispatch loop are built once: it runs them for every message.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
BODIES: Table = OutboxBody.__table__  # type: ignore[assignment]
_c = OUTBOX.c
_NOW = bindparam("b_now", type_=_c.next_attempt_at.type)
_STALE = bindparam("b_stale_before", type_=_c.claimed_at.type)
_ID = bindparam("b_message_id", type_=_c.id.type)
_WORKER = bindparam("b_worker", type_=_c.claimed_by.type)
_DUE = or_(
    and_(_c.status == OutboxStatus.QUEUED, _c.next_attempt_at <= _NOW),
    and_(_c.status == OutboxStatus.SENDING, _c.claimed_at <= _STALE),
)
_FIND_DUE = (
    select(_c.id)
    .where(_c.id > bindparam("b_after"), _DUE)
    .order_by(_c.id)
    .limit(bindparam("b_batch"))
)
_CLAIM = (
    update(OUTBOX)
    .where(_c.id == _ID, _DUE)
    .values(
        status=OutboxStatus.SENDING, claimed_by=_WORKER, claimed_at=_NOW, attempts=_c.attempts + 1
    )
    .returning(_c.kind, _c.sender, _c.recipients, _c.subject, _c.attempts, _c.round_id)
)
_BODY = select(BODIES.c.raw).where(BODIES.c.id == _ID)
_MARK_SENT = (
    update(OUTBOX)
    .where(_c.id == _ID, or_(_c.status == OutboxStatus.SENDING, _c.status == OutboxStatus.QUEUED))
    .values(
        status=OutboxStatus.SENT,
        sent_at=_NOW,
        last_error=None,
        refused_recipients=bindparam("b_refused"),
    )
)
_RECORD = (
    insert(EVENTS)
    .inline()
    .values(
        at=_NOW,
        actor=bindparam("b_actor"),
        action=bindparam("b_action"),
        object_type="outbox_message",
        object_id=bindparam("b_object_id"),
        round_id=bindparam("b_round_id"),
        details=bindparam("b_details"),
    )
)


@dataclass(frozen=True)
class _HotStatements:
    """What the loop runs for every message, compiled once for the database in use."""

    claim: Precompiled
    body: Precompiled
    mark_sent: Precompiled
    record: Precompiled


@functools.lru_cache(maxsize=8)
def _hot_statements(dialect: Dialect) -> _HotStatements:
    return _HotStatements(
        *(Precompiled(statement, dialect) for statement in (_CLAIM, _BODY, _MARK_SENT, _RECORD))
    )


class DispatchRun:
    """The database side of one dispatch run: find, claim and mark messages."""

    def __init__(
        self,
        conn: Connection,
        worker: str,
        now: dt.datetime,
        policy: OutboxPolicy,
        alert: Alert,
        result: DispatchResult,
        limit: int | None = None,
    ) -> None:
        self.conn, self.worker, self.now = conn, worker, now
        self.policy, self.alert, self.result, self.limit = policy, alert, result, limit
        self.batch: collections.deque[int] = collections.deque()  # due ids, not yet tried
        self.after = 0  # the last id tried
        self.tried = 0
        self.ahead: Claimed | None = None  # claimed while the message before it was being sent
        self.stale_before = now - dt.timedelta(seconds=self.policy.lease_seconds)
        self.actor = f"dispatcher:{worker}"
        self.unmarked: tuple[Claimed, dict[str, str]] | None = None  # sent, mark not committed
        self.hot = _hot_statements(conn.dialect)
        self.cursor = driver_cursor(conn)  # for the hot statements

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A short transaction that first marks the message sent just before, if any."""
        with self.conn.begin():
            if self.unmarked is not None:
                self._mark_sent(*self.unmarked)
                self.unmarked = None
            yield

    def mark_sent(self) -> None:
        """Commit the mark of the message sent just before, if it is not committed yet."""
        if self.unmarked is not None:
            with self.transaction():
                pass

    def finish(self) -> None:
        try:
            self.mark_sent()
        finally:
            self.cursor.close()

    def claim_next(self) -> Claimed | None:
        """Claim the next due message, skipping those another dispatcher holds.

        None when nothing more is due or ``limit`` messages have been tried.
        """
        while self.limit is None or self.tried < self.limit:
            if not self.batch:
                self.batch.extend(self.due(self.after))
                if not self.batch:
                    return None
            self.after = self.batch.popleft()
            self.tried += 1
            claimed = self.claim(self.after)
            if claimed is not None:
                return claimed
            self.result.skipped += 1
        return None

    def claim_ahead(self) -> None:
        """While a message is being sent, claim the one to send after it."""
        self.ahead = self.claim_next()

    def next_claimed(self) -> Claimed | None:
        """The message claimed during the last send, or else the next one, claimed now.

        (When nothing was due during the send, the search is repeated: a failure since
        then may have queued an alert, which this run sends too.)
        """
        claimed, self.ahead = self.ahead, None
        return claimed if claimed is not None else self.claim_next()

    def due(self, after: int) -> list[int]:
        with self.transaction():
            return list(
                self.conn.scalars(
                    _FIND_DUE,
                    {
                        "b_after": after,
                        "b_now": self.now,
                        "b_stale_before": self.stale_before,
                        "b_batch": self.policy.batch_size,
                    },
                )
            )

    def claim(self, message_id: int) -> Claimed | None:
        with self.transaction():
            row = self.hot.claim.one_or_none(
                self.cursor,
                {
                    "b_message_id": message_id,
                    "b_now": self.now,
                    "b_stale_before": self.stale_before,
                    "b_worker": self.worker,
                },
            )
            if row is None:  # another dispatcher claimed it first
                return None
            kind, sender, recipients, subject, attempts, round_id = row
            body = self.hot.body.one_or_none(self.cursor, {"b_message_id": message_id})
            if body is None:  # cannot happen (queued together); leave the message as it was
                raise LookupError(f"outbox message {message_id} has no stored body")
        return Claimed(
            message_id, kind, sender, list(recipients), subject, bytes(body[0]), attempts, round_id
        )

    def _event(self, claimed: Claimed, action: str, details: dict[str, Any]) -> None:
        self.hot.record.run(
            self.cursor,
            {
                "b_now": self.now,
                "b_actor": self.actor,
                "b_action": action,
                "b_object_id": str(claimed.id),
                "b_round_id": claimed.round_id,
                "b_details": details,
            },
        )

    def sent(self, claimed: Claimed, refused: Mapping[str, str]) -> None:
        """The server accepted it: mark it in the next transaction (before the next content
        is sent)."""
        self.unmarked = (claimed, dict(refused))

    def _mark_sent(self, claimed: Claimed, refused: dict[str, str]) -> None:
        self.hot.mark_sent.run(
            self.cursor, {"b_message_id": claimed.id, "b_now": self.now, "b_refused": refused}
        )
        details: dict[str, Any] = {"attempts": claimed.attempts}
        if refused:
            details["refused"] = refused
        self._event(claimed, "sent_partly" if refused else "sent", details)
        self.result.sent += 1
        if refused:
            self.result.partly_refused += 1

    def failed(self, claimed: Claimed, failure: SendFailure) -> None:
        c = _c
        give_up = not failure.temporary or claimed.attempts >= self.policy.max_attempts
        error = failure.detail
        if failure.temporary and give_up:
            error = f"gave up after {claimed.attempts} attempts; last: {failure.detail}"
        values: dict[str, Any] = {"last_error": error[:2000], "refused_recipients": failure.refused}
        if give_up:
            values["status"] = OutboxStatus.FAILED
        else:
            values["status"] = OutboxStatus.QUEUED
            values["next_attempt_at"] = self.now + backoff(claimed.attempts, self.policy)
        with self.transaction():
            changed = self.conn.execute(
                update(OUTBOX)
                .where(
                    c.id == claimed.id,
                    c.status == OutboxStatus.SENDING,
                    c.claimed_by == self.worker,
                )
                .values(**values)
            )
            if changed.rowcount != 1:
                return  # another dispatcher took it over after the lease ran out
            if not give_up:
                self.result.retrying += 1
                return
            self.result.failed += 1
            self._event(
                claimed,
                "failed",
                {"error": error, "attempts": claimed.attempts, "code": failure.code},
            )
            with Session(bind=self.conn) as session:  # joins this transaction
                if self.alert(session, claimed, error, self.now):
                    self.result.alerts_queued += 1
                session.flush()
