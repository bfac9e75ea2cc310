"""The dispatcher: claim a due message, send it, mark it; one at a time over one connection.

:func:`dispatch` is one run:

1. Take back what a dispatcher on this host left in ``sending`` when its process
   died (the process named in ``claimed_by`` is gone): queued again at once, its
   unfinished attempt not counted.
2. Find the due messages, a batch of ids at a time: queued and due, or left in
   ``sending`` by a dispatcher whose lease ran out (it died on another host, or
   stalled).
3. Claim one with a conditional update, so that of two dispatchers only one
   wins it; commit.
4. Send its stored bytes over the reused SMTP connection. While the server
   answers MAIL FROM, start its lease again if it is older than a quarter of
   the lease: a run of any length keeps what it holds (the lease need only
   outlast one message's exchange with the server).
   A claim lost by then (this run stalled past the lease and another dispatcher
   took the message over) stops the send before the content goes out.
5. Mark it, fenced: only while this run still holds the claim (a run that lost
   it logs that and leaves the message alone). Sent; or queued again after a
   temporary failure, with a doubling wait; or failed for good, with an alert
   queued for the business unit in the same transaction.

The database work is done while the server is busy, in short transactions of
its own: the next message is claimed while the server takes in this one's
content, and this one's mark is committed while the server answers the next
one's MAIL FROM, so before the next content goes out. At any moment at most one
message has been accepted by the server and not yet marked; a crash there
sends that one again, with the same Message-ID (at once if the next dispatcher
runs on the same host). The clock is read at each claim, renewal and mark.

A database that is locked by another process, or whose connection is lost, is
waited for: each short transaction is run again (on a new connection if need be)
for up to the engine's bound (``AUDITROUND_DATABASE_RETRY_SECONDS``). If it
stays unavailable, the run stops with :class:`DatabaseUnavailable`, after
marking the message the server accepted and giving back the ones it claimed and
the server never took (queued again, due at once); the sentence says how many
were sent and what, if anything, could not be put back.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket

from sqlalchemy import Engine

from audit_core.adapters import db
from audit_core.adapters.dispatch_run import (  # the run's types, used by callers too
    Claimed,
    ClaimLost,
    Clock,
    DispatchResult,
    OnFailure,
    Run,
)
from audit_core.adapters.smtp_transport import SendFailure, Transport
from audit_core.domain.policy import OutboxPolicy

__all__ = ["Claimed", "DispatchResult", "OnFailure", "dispatch", "worker_name"]


def worker_name() -> str:
    """A name unique to this dispatcher process: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


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
    with db.explained(engine), engine.connect() as conn:
        run = Run(conn, worker or worker_name(), policy, clock, on_failure, result, limit)
        try:
            _send_all(run, transport)
            run.commit_mark()
        except BaseException as exc:
            unavailable = run.stop(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
    return result


def _send_all(run: Run, transport: Transport) -> None:
    run.reclaim_stranded()
    claimed = run.claim_next()
    while claimed is not None:
        run.holding = claimed  # given back if the database fails before the server takes it
        try:
            refused = transport.send(
                claimed.sender,
                claimed.recipients,
                claimed.raw,
                while_envelope=functools.partial(run.keep, claimed),
                while_content=run.claim_ahead,
            )
        except ClaimLost:
            pass  # another dispatcher took it over before its content went out: it is theirs
        except SendFailure as failure:
            run.mark_failed(claimed, failure)
            if failure.connecting:  # nothing was sent, and nothing else can be
                run.result.stopped = failure.detail
                run.release_ahead()
                return
        else:
            run.sent(claimed, refused)
        claimed = run.next_claimed()
