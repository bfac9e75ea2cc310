"""Secure links: a random token in the email, only its hash in the database.

A token is 32 random bytes, URL-safe. The database keeps the SHA-256 hex
digest, so a copy of the tables alone cannot open a return; the token itself
exists only in the email that carries it (and so in the outbox, which keeps
every email byte for byte: that table is as sensitive as the returns).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh URL-safe token (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def matches(token: str, token_hash: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    try:
        presented = hash_token(token)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented, token_hash)


def return_link(public_url: str, token: str) -> str:
    """The link an auditor opens to complete their return."""
    return f"{public_url.rstrip('/')}/return/{token}"


def dashboard_link(public_url: str, path: str) -> str:
    """A link to a page of the business unit's dashboard (it asks for sign-in)."""
    return f"{public_url.rstrip('/')}/dashboard/{path.lstrip('/')}"
