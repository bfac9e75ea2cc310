"""The dashboard's users: added, listed, disabled, given a new password, signed in.

A user is someone of the business unit (a coordinator, who may change a round
from the dashboard) or of the QA subgroup (who reads it). Their id is the name
they sign in with. Only an Argon2 hash of each password is kept, and neither
the password nor its hash goes into the audit trail.

A new password signs the user out everywhere, and so does disabling them: every
session of theirs is deleted in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from audit_core.domain.errors import AuditRoundError, InvalidState, NotFound
from audit_core.domain.models import PortalSession, PortalUser, UserRole
from audit_core.services.ports import Passwords
from audit_core.services.unit_of_work import UnitOfWork

MIN_PASSWORD = 12  # characters
MAX_PASSWORD = 1024  # characters: a longer one is refused before it is hashed
USER_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_USER_ID = 64
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ROLES = ", ".join(f"'{role.value}'" for role in UserRole)


@dataclass(frozen=True)
class UserView:
    """A user as the CLI lists them (no hash)."""

    id: str
    name: str
    email: str
    role: str
    active: bool
    created_at: str
    password_changed_at: str
    sessions: int  # sessions open now

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def add_user(
    uow: UnitOfWork,
    passwords: Passwords,
    user_id: str,
    *,
    name: str,
    email: str,
    role: str,
    password: str,
) -> PortalUser:
    """Add a user who may sign in at once (``portal_user_added``)."""
    user_id, name, email = check_user_id(user_id), name.strip(), email.strip()
    if not name:
        raise AuditRoundError("Give the user's name, as colleagues know them.")
    if len(name) > 200:
        raise AuditRoundError("A user's name has at most 200 characters.")
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise AuditRoundError(f"'{email}' is not an email address.")
    chosen = check_role(role)
    check_password(password)
    if uow.session.get(PortalUser, user_id) is not None:
        raise InvalidState(f"There is already a user '{user_id}'.")
    user = PortalUser(
        id=user_id,
        name=name,
        email=email,
        role=chosen,
        password_hash=passwords.hash(password),
        active=True,
        created_at=uow.now,
        password_changed_at=uow.now,
    )
    uow.session.add(user)
    uow.session.flush()
    uow.record(
        "portal_user_added",
        "portal_user",
        user_id,
        details={"name": name, "email": email, "role": chosen.value},
    )
    return user


def set_active(uow: UnitOfWork, user_id: str, *, active: bool) -> bool:
    """Disable a user (their sessions end) or enable them again; False if it already was so."""
    user = get_user(uow, user_id)
    if user.active == active:
        return False
    user.active = active
    if not active:
        _end_sessions(uow, user.id)
    uow.record("portal_user_enabled" if active else "portal_user_disabled", "portal_user", user.id)
    return True


def set_password(uow: UnitOfWork, passwords: Passwords, user_id: str, password: str) -> None:
    """Give a user a new password; every session of theirs ends (``portal_password_set``)."""
    user = get_user(uow, user_id)
    check_password(password)
    user.password_hash = passwords.hash(password)
    user.password_changed_at = uow.now
    ended = _end_sessions(uow, user.id)
    uow.record("portal_password_set", "portal_user", user.id, details={"sessions_ended": ended})


def list_users(uow: UnitOfWork) -> list[UserView]:
    """Every user, by id, with how many sessions each has open now."""
    counted = uow.session.execute(
        select(PortalSession.user_id, func.count())
        .where(PortalSession.expires_at > uow.now)
        .group_by(PortalSession.user_id)
    )
    open_now: dict[str, int] = {user_id: count for user_id, count in counted}
    users = uow.session.scalars(select(PortalUser).order_by(PortalUser.id))
    return [
        UserView(
            id=user.id,
            name=user.name,
            email=user.email,
            role=str(user.role),
            active=user.active,
            created_at=user.created_at.isoformat(),
            password_changed_at=user.password_changed_at.isoformat(),
            sessions=int(open_now.get(user.id, 0)),
        )
        for user in users
    ]


def authenticate(
    uow: UnitOfWork, passwords: Passwords, user_id: str, password: str
) -> PortalUser | None:
    """The active user with this name and password, else None.

    An unknown or disabled name costs one Argon2 verification too, so the time taken
    does not tell which names exist. A hash made with weaker parameters is renewed.
    """
    typed = user_id.strip().lower()
    user = uow.session.get(PortalUser, typed) if _looks_like_id(typed) else None
    if user is None or not user.active or len(password) > MAX_PASSWORD:
        passwords.waste(password[:MAX_PASSWORD])
        return None
    matched, renewed = passwords.verify(password, user.password_hash)
    if not matched:
        return None
    if renewed is not None:
        user.password_hash = renewed
    return user


def get_user(uow: UnitOfWork, user_id: str) -> PortalUser:
    user = uow.session.get(PortalUser, user_id.strip().lower())
    if user is None:
        raise NotFound(f"There is no user '{user_id}': 'auditround users list' shows them.")
    return user


def check_user_id(user_id: str) -> str:
    """The sign-in name as given, if it is a slug (lower-case letters, digits, - and _)."""
    user_id = user_id.strip()
    if not _looks_like_id(user_id):
        raise AuditRoundError(
            f"'{user_id}' cannot be a user name: use lower-case letters, digits, '-' and '_' "
            f"(up to {MAX_USER_ID}, starting with a letter or digit), for example 'amara-bello'."
        )
    return user_id


def check_role(role: str) -> UserRole:
    try:
        return UserRole(role.strip().lower())
    except ValueError:
        raise AuditRoundError(f"'{role}' is not a role: use {ROLES}.") from None


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing (or too long to hash cheaply)."""
    if len(password) < MIN_PASSWORD:
        raise AuditRoundError(
            f"The password is too short: use at least {MIN_PASSWORD} characters "
            "(three or four unrelated words are easy to remember)."
        )
    if len(password) > MAX_PASSWORD:
        raise AuditRoundError(f"The password is too long: use at most {MAX_PASSWORD} characters.")


def _looks_like_id(text: str) -> bool:
    return len(text) <= MAX_USER_ID and USER_ID.fullmatch(text) is not None


def _end_sessions(uow: UnitOfWork, user_id: str) -> int:
    ended = uow.session.execute(delete(PortalSession).where(PortalSession.user_id == user_id))
    return int(getattr(ended, "rowcount", 0) or 0)
