"""PostgreSQL databases and roles made for one test, and dropped after it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url, text


@contextmanager
def empty_database(url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``url``; its URL (same login)."""
    name = f"auditround_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def login_role(engine: Engine) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL login role that owns nothing: its name and password. What it was
    granted in ``engine``'s database is revoked before it is dropped."""
    role, password = f"auditround_app_{secrets.token_hex(4)}", secrets.token_hex(16)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
    try:
        yield role, password
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def as_role(url: str, role: str, password: str) -> str:
    """``url`` with another login."""
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)
