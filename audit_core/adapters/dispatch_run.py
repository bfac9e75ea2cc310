"""The database side of one dispatch run: claim, renew, mark and give back, in short
transactions on one connection, each run again while the database is busy or its
connection lost (see :mod:`audit_core.adapters.dispatcher` for the whole run)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Table, and_, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from audit_core.adapters import db
from audit_core.adapters.smtp_transport import SendFailure
from audit_core.domain import trail_append
from audit_core.domain.errors import DatabaseUnavailable
from audit_core.domain.models import OutboxBody, OutboxMessage, OutboxStatus
from audit_core.domain.policy import OutboxPolicy

log = logging.getLogger("audit_core.adapters.dispatcher")

Clock = Callable[[], dt.datetime]


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0  # temporary failure: queued again for later
    failed: int = 0  # permanent failure, or out of attempts
    skipped: int = 0  # claimed by another dispatcher first
    lost: int = 0  # the claim ran out mid-send and another dispatcher took the message over
    reclaimed: int = 0  # left in sending by a dispatcher on this host that died; queued again
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
    claimed_at: dt.datetime  # when this run's lease on it started


class ClaimLost(Exception):
    """This run's claim on a message ran out and another dispatcher took the message over."""


# Queues the business unit's notice of a message given up on; True if it is new.
OnFailure = Callable[[Session, Claimed, str, dt.datetime], bool]


def _died(worker: str, host: str) -> bool:
    """Whether ``worker`` (a :func:`worker_name`) ran on ``host`` in a process that is gone."""
    name_host, _, rest = worker.partition(":")  # a host name holds no colon
    pid = rest.partition(":")[0]
    if name_host != host or not pid.isdigit() or int(pid) in (0, os.getpid()):
        return False
    try:
        os.kill(int(pid), 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # it exists, under another user; or no such pid
        pass
    return _exited(int(pid))


def _exited(pid: int) -> bool:
    """Whether the process has ended and is only waiting to be reaped by its parent (a
    zombie, which still answers signal 0), as Linux's ``/proc`` tells; elsewhere False."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]  # the state follows the name


def backoff(attempts: int, policy: OutboxPolicy) -> dt.timedelta:
    """How long to wait after the ``attempts``-th temporary failure."""
    seconds = policy.backoff_base_seconds * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, policy.backoff_max_seconds))


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
_RENEW = update(_t).where(_HELD).values(claimed_at=bindparam("now"))  # the lease starts again
_STRANDED = select(_c.id, _c.claimed_by).where(
    _c.status == OutboxStatus.SENDING, _c.claimed_by.like(bindparam("host"))
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

_GIVE_BACK = update(_t).where(_HELD).values(status=OutboxStatus.QUEUED, attempts=_c.attempts - 1)

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _retried(method: Callable[Concatenate[Run, _P], _T]) -> Callable[Concatenate[Run, _P], _T]:
    """One of the run's short transactions, run again while the database is locked or its
    connection lost (the connection reconnects), for up to the engine's bound. An attempt
    that failed leaves the run as it was before it."""

    @functools.wraps(method)
    def retried(run: Run, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        def attempt() -> _T:
            saved = run.state()
            try:
                return method(run, *args, **kwargs)
            except DBAPIError:  # its transaction did not commit
                run.restore(saved)
                raise

        return db.retrying(attempt, seconds=db.retry_seconds(run.conn.engine))

    return retried


class Run:
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
        self.holding: Claimed | None = None  # handed to the server, which may not have taken it
        self.deferred: Exception | None = None  # a database failure while content went out

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A short transaction that first marks the message accepted just before, if any.
        Its audit events join the trail last, just before it commits (``trail_append``)."""
        with self.conn.begin():
            if self.unmarked is not None:
                self._mark_sent(*self.unmarked)
                self.unmarked = None
            yield
            trail_append.append_deferred(self.conn)

    def state(self) -> tuple[Any, ...]:
        """What a transaction changes in the run, to put back if it fails."""
        progress = (list(self.batch), self.after, self.tried, self.ahead, self.unmarked)
        return progress, dataclasses.replace(self.result)

    def restore(self, saved: tuple[Any, ...]) -> None:
        progress, result = saved
        self.batch, self.after, self.tried, self.ahead, self.unmarked = progress
        vars(self.result).update(vars(result))

    def stop(self, error: BaseException) -> DatabaseUnavailable | None:
        """After the run failed: commit the mark of the message the server accepted, give back
        the claims the server never took, and, if the database was unavailable, say so. (A
        database error can only stop a send before its content goes out: see claim_ahead.)"""
        database = isinstance(error, DBAPIError)
        unavailable = database and db.transient(error) is not None
        seconds = db.retry_seconds(self.conn.engine)
        why = db.why_unavailable(error, seconds) if unavailable else ""
        if unavailable:
            log.info("%s: the dispatch stops and gives back its claims", why)
        try:
            self.give_back(self.holding if database else None)
        except Exception as exc:
            if not unavailable:
                log.warning("the claims of the failed run could not be given back: %s", exc)
        if not unavailable:
            return None
        return DatabaseUnavailable(f"{why}, so the dispatch stopped: {self._outcome(error)}")

    @_retried
    def give_back(self, holding: Claimed | None) -> None:
        """Mark the message accepted just before, and queue again (due at once) the one claimed
        ahead and ``holding``, the one the server did not take, if they are still this run's."""
        with self.transaction():
            for claimed in (self.ahead, holding):
                if claimed is not None:
                    self.conn.execute(_GIVE_BACK, {"message": claimed.id, "worker": self.worker})
        self.ahead = self.holding = None

    def _outcome(self, error: BaseException) -> str:
        """What the run did and left, after :meth:`give_back` (which may have failed)."""
        sent = self.result.sent
        done = f"{sent} message{' was' if sent == 1 else 's were'} sent and marked sent"
        parts = [done if sent else "no message was sent"]
        lease = f"its claim runs out ({self.policy.lease_seconds} s)"
        if self.unmarked is not None:
            parts.append(
                f"message {self.unmarked[0].id} was accepted by the mail server but could not "
                f"be marked sent: it will be sent again, with the same Message-ID, once {lease}"
            )
        marked = self.unmarked[0] if self.unmarked is not None else None
        for claimed in {c.id: c for c in (self.ahead, self.holding) if c and c != marked}.values():
            parts.append(f"message {claimed.id} stays claimed by this dispatcher until {lease}")
        rest = "what is not sent waits in the outbox for the next dispatch"
        return f"{'; '.join(parts)}; {rest}. {db.try_again(error)}"

    @_retried
    def commit_mark(self) -> None:
        """Commit the mark of the message accepted just before, if it is not committed yet."""
        if self.unmarked is not None:
            with self.transaction():
                pass

    def sent(self, claimed: Claimed, refused: Mapping[str, str]) -> None:
        """The server accepted it: its mark is committed before the next content goes out."""
        self.unmarked = (claimed, dict(refused))

    def claim_ahead(self) -> None:
        """While a message is being sent, claim the one to send after it. A database error
        here stops the run only once the server has answered: the content is out, and the
        answer says whether the message is to be marked sent."""
        try:
            self.ahead = self.claim_next()
        except DBAPIError as exc:
            self.deferred = exc

    @_retried
    def keep(self, claimed: Claimed) -> None:
        """While the server answers MAIL FROM: commit the mark of the message before, and, if
        this one was claimed more than a quarter of the lease ago, start its lease again, so
        that a run of any length keeps what it holds (the lease need only outlast one message's
        exchange with the server). A claim another dispatcher has taken over meanwhile stops
        the send before the content goes out."""
        now = self.clock()
        renew = now - claimed.claimed_at > dt.timedelta(seconds=self.policy.lease_seconds / 4)
        if not renew and self.unmarked is None:
            return
        with self.transaction():
            held = not renew or self._fenced(claimed, _RENEW, {"now": now})
        if not held:
            raise ClaimLost(claimed.id)

    @_retried
    def reclaim_stranded(self) -> None:
        """Queue again at once what a dispatcher on this host left in ``sending`` when its
        process died (killed, out of memory): nobody will finish it, and the lease would make
        it wait. Its unfinished attempt is not counted: a crash is not the server's answer,
        and must not bring a later temporary refusal nearer to giving up."""
        host = socket.gethostname()
        with self.transaction():
            for message_id, worker in self.conn.execute(_STRANDED, {"host": f"{host}:%"}).all():
                if not _died(worker, host):
                    continue
                values = {"message": message_id, "worker": worker}
                if self.conn.execute(_GIVE_BACK, values).rowcount:
                    self.result.reclaimed += 1
                    log.warning(
                        "outbox message %d was left in sending by dispatcher %s, whose process "
                        "has stopped; it is queued again",
                        message_id,
                        worker,
                    )

    def next_claimed(self) -> Claimed | None:
        """The message claimed during the last send, or else the next one, claimed now."""
        if self.deferred is not None:  # the claim ahead found the database unavailable
            raise self.deferred
        claimed, self.ahead = self.ahead, None
        return claimed if claimed is not None else self.claim_next()

    @_retried
    def release_ahead(self) -> None:
        """Give back the message claimed ahead and never sent: it is due again at once."""
        claimed, self.ahead = self.ahead, None
        if claimed is not None:
            with self.transaction():
                values = {"status": OutboxStatus.QUEUED, "attempts": claimed.attempts - 1}
                self._fenced(claimed, update(_t).where(_HELD).values(**values), {})

    def _times(self, now: dt.datetime) -> dict[str, dt.datetime]:
        return {"now": now, "stale": now - dt.timedelta(seconds=self.policy.lease_seconds)}

    @_retried
    def claim_next(self) -> Claimed | None:
        """Claim the next due message, skipping those another dispatcher holds (steps 2-3)."""
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
            message_id, kind, sender, list(recipients), subject, bytes(raw), attempts, round_id, now
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
            "outbox message %d was taken over by another dispatcher (this one's claim ran out); "
            "it is left to that one",
            claimed.id,
        )
        return False

    def _event(
        self, claimed: Claimed, now: dt.datetime, action: str, details: dict[str, Any]
    ) -> None:
        """Record what happened to the message; it joins the trail as the transaction ends."""
        event = {
            "at": now,
            "actor": self.actor,
            "action": action,
            "object_type": "outbox_message",
            "object_id": str(claimed.id),
            "round_id": claimed.round_id,
            "details": details,
        }
        trail_append.defer(self.conn, [event])

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

    @_retried
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
