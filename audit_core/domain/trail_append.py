"""The one way events enter the audit trail: appended to the chain just before commit.

Every writer (``UnitOfWork.record`` and ``record_many``, the dispatcher's marks)
hands its events to :func:`defer`: they wait, with the transaction they belong to,
until :func:`append_deferred` appends them as the last step before that
transaction commits. A session's commit does it by itself (:func:`defer_in_session`);
the dispatcher calls it at the end of each of its short transactions.

Appending locks the chain head (its one row, by updating it), so two writers
take their places one after another. Taking that lock last keeps it for the
shortest time and never while waiting for another lock: a transaction that held
the head and then waited for a row another writer holds could deadlock with it.
If the transaction rolls back, its deferred events go with it; a session's savepoint
rolled back takes those recorded in it.

This module executes SQL on the caller's connection and session (it opens
nothing): it lives beside the models so that the use cases and the dispatcher
share it.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, insert, update
from sqlalchemy.orm import Session

from audit_core.domain import trail
from audit_core.domain.models import AuditChain, AuditEvent

_events: Table = AuditEvent.__table__  # type: ignore[assignment]
_head: Table = AuditChain.__table__  # type: ignore[assignment]
_INSERT = insert(_events)
_TAKE_PLACES = (  # locks the head: a second writer waits here until the first commits
    update(_head)
    .where(_head.c.id == 1)
    .values(last_seq=_head.c.last_seq + bindparam("added"))
    .returning(_head.c.last_seq, _head.c.last_hash)
)
BATCH = 5000  # events hashed and inserted at once: a large import's events are not copied whole
_SET_HASH = update(_head).where(_head.c.id == 1).values(last_hash=bindparam("new_hash"))

# The events waiting for each open transaction (weakly held: a transaction rolled back and
# dropped takes its events with it), each with the savepoints it was recorded in.
_waiting: weakref.WeakKeyDictionary[Any, list[tuple[frozenset[int], Mapping[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def defer(
    conn: Connection, events: Sequence[Mapping[str, Any]], within: frozenset[int] = frozenset()
) -> None:
    """Keep events (``at``, ``actor``, ``action``, ``object_type``, ``object_id``,
    ``round_id``, ``details``) to be appended when ``conn``'s transaction ends; ``within``:
    the savepoints they were recorded in (see :func:`defer_in_session`)."""
    transaction = conn.get_transaction()
    if transaction is None:
        raise RuntimeError("audit events are written only inside a transaction")
    _waiting.setdefault(transaction, []).extend((within, event) for event in events)


def _kept(conn: Connection, *, take: bool = False) -> list[Mapping[str, Any]]:
    """The events deferred in ``conn``'s transaction (``take``: and forget them)."""
    transaction = conn.get_transaction()
    if transaction is None:
        return []
    waiting = _waiting.pop(transaction, []) if take else _waiting.get(transaction, [])
    return [event for _within, event in waiting]


def append_deferred(conn: Connection) -> int:
    """Append the events deferred in ``conn``'s transaction; call it last, before commit."""
    events = _kept(conn, take=True)
    append(conn, events)
    return len(events)


def append(conn: Connection, events: Sequence[Mapping[str, Any]]) -> None:
    """Give the events the next places in the trail and write them, in one bulk insert."""
    if not events:
        return
    head = conn.execute(_TAKE_PLACES, {"added": len(events)}).one_or_none()
    if head is None:
        raise RuntimeError("the audit trail has no chain head: run 'auditround db upgrade'")
    last_seq, last_hash = head
    seq = last_seq - len(events)
    for start in range(0, len(events), BATCH):  # hashed and written a batch at a time
        rows = trail.chained(events[start : start + BATCH], seq + start, last_hash)
        conn.execute(_INSERT, rows)
        last_hash = rows[-1]["hash"]
    conn.execute(_SET_HASH, {"new_hash": last_hash})


def deferred(session: Session) -> list[Mapping[str, Any]]:
    """The events of the session's transaction that have not joined the trail yet (those
    recorded since it began: a use case that reads the trail sees its own events too)."""
    return _kept(session.connection()) if session.in_transaction() else []


def defer_in_session(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Keep events to be appended when the session commits (after its last flush); those
    recorded in a savepoint (``begin_nested``) that is rolled back are dropped with it."""
    conn = session.connection()
    defer(conn, events, _savepoints(session.get_nested_transaction()))
    session.info[_TRANSACTION] = weakref.ref(conn.get_transaction())
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", _append_before_commit)
        event.listen(session, "after_soft_rollback", _drop_rolled_back)
        session.info[_HOOKED] = True


_HOOKED, _TRANSACTION = "audit_trail_hooked", "audit_trail_transaction"
# Each savepoint that events were recorded in gets a number (weakly held: a number, not the
# savepoint itself, goes with the events, so that nothing keeps a transaction alive).
_numbers: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_next_number = itertools.count(1)


def _savepoints(savepoint: Any) -> frozenset[int]:
    """The numbers of a session's savepoint and of those around it."""
    numbers = set()
    while savepoint is not None and savepoint.nested:
        if savepoint not in _numbers:
            _numbers[savepoint] = next(_next_number)
        numbers.add(_numbers[savepoint])
        savepoint = savepoint.parent
    return frozenset(numbers)


def _append_before_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the events wait for the transaction itself
    session.flush()  # the changes first, so that the head is the last thing locked
    append_deferred(session.connection())


def _drop_rolled_back(session: Session, previous: Any) -> None:
    """A savepoint rolled back: the events recorded in it (or in one inside it) go too."""
    number = _numbers.get(previous) if previous.nested else None
    transaction = session.info.get(_TRANSACTION, lambda: None)()  # where they were deferred
    if number is None or transaction is None:
        return
    waiting = _waiting.get(transaction, [])
    waiting[:] = [(within, event) for within, event in waiting if number not in within]
