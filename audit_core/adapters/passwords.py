"""Password hashing with Argon2id (pwdlib, over argon2-cffi), for the dashboard's users.

Each hash carries its salt and its parameters, so stronger parameters in a later
release apply to each password the next time it is typed (:meth:`verify` hands back
the new hash). The hash of no real password is made once per process, to spend the
same time on a sign-in under a name that does not exist (made at the start, so the
first such sign-in takes no longer than the others).
"""

from __future__ import annotations

import secrets

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher


class Argon2Passwords:
    """The use cases' ``Passwords`` port (:mod:`audit_core.services.ports`)."""

    def __init__(self) -> None:
        self._hasher = PasswordHash((Argon2Hasher(),))
        self._dummy = self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        try:
            return self._hasher.verify_and_update(password, hashed)
        except PwdlibError:  # not a hash this adapter knows: it matches nothing
            return False, None

    def waste(self, password: str) -> None:
        self._hasher.verify(password, self._dummy)
