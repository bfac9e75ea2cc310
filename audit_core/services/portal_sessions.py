"""Signed-in sessions of the dashboard: started, found, ended, purged.

The browser's cookie holds a random 32-byte id; the database keeps only its
SHA-256 (``portal_session.id_hash``), so a copy of the tables opens no session.
A session ends after :data:`IDLE` without a request, and in any case
:data:`ABSOLUTE` after sign-in: ``expires_at`` is the earlier of the two. Each
session has its own CSRF token for the forms it shows.

A request refreshes ``last_seen_at`` (and so ``expires_at``) at most once every
:data:`REFRESH`, so reading pages does not write to the database each time. An
expired session is deleted when it is met; :func:`purge_expired` deletes the rest.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete

from audit_core.domain.models import PortalSession, PortalUser
from audit_core.domain.tokens import hash_token, new_token
from audit_core.services.unit_of_work import UnitOfWork

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=8)
REFRESH = dt.timedelta(minutes=1)
MAX_COOKIE = 128  # characters: a longer cookie is not one of ours, and is not hashed


@dataclass(frozen=True)
class Current:
    """Who a live session belongs to, and its CSRF token."""

    user_id: str
    name: str
    role: str
    csrf_token: str


def start_session(uow: UnitOfWork, user: PortalUser) -> tuple[str, Current]:
    """A new session for ``user`` (``signed_in``); the cookie's value, and who it is."""
    cookie = new_token()
    row = PortalSession(
        id_hash=hash_token(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=uow.now,
        last_seen_at=uow.now,
        expires_at=_expiry(uow.now, uow.now),
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record("signed_in", "portal_user", user.id)
    return cookie, _current(row, user)


def find_session(uow: UnitOfWork, cookie: str) -> Current | None:
    """The live session this cookie opens, refreshed if a minute has passed; else None.

    An expired session, or one of a user since disabled, is deleted here.
    """
    row = _row(uow, cookie)
    if row is None:
        return None
    user = row.user
    if uow.now >= row.expires_at or not user.active:
        uow.session.delete(row)
        return None
    if uow.now - row.last_seen_at >= REFRESH:
        row.last_seen_at = uow.now
        row.expires_at = _expiry(row.created_at, uow.now)
    return _current(row, user)


def end_session(uow: UnitOfWork, cookie: str) -> bool:
    """Delete the session this cookie opens (``signed_out``); False if there was none."""
    row = _row(uow, cookie)
    if row is None:
        return False
    uow.record("signed_out", "portal_user", row.user_id)
    uow.session.delete(row)
    return True


def purge_expired(uow: UnitOfWork) -> int:
    """Delete every session that has expired; how many there were."""
    purged = uow.session.execute(delete(PortalSession).where(PortalSession.expires_at <= uow.now))
    return int(getattr(purged, "rowcount", 0) or 0)


def _row(uow: UnitOfWork, cookie: str) -> PortalSession | None:
    if not cookie or len(cookie) > MAX_COOKIE or not cookie.isascii():
        return None
    return uow.session.get(PortalSession, hash_token(cookie))


def _expiry(created_at: dt.datetime, seen_at: dt.datetime) -> dt.datetime:
    return min(seen_at + IDLE, created_at + ABSOLUTE)


def _current(row: PortalSession, user: PortalUser) -> Current:
    return Current(user.id, user.name, str(user.role), row.csrf_token)
