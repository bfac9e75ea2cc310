"""Database adapter: engine, session factory and migrations.

SQLite is the default (``./var/auditround.db``, WAL mode, foreign keys on,
``synchronous=NORMAL``: in WAL mode a commit then survives a crash of the
process, and only a power cut can lose the last commits, never corrupt the file);
PostgreSQL is used when ``AUDITROUND_DATABASE_URL`` names it, for example
``postgresql+psycopg://auditround@db.example.org/auditround``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from audit_core.domain.errors import SettingError

DEFAULT_SQLITE_PATH = Path("var") / "auditround.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    """SQLite at ``./var/auditround.db`` (the folder is made if needed)."""
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str = "", **kwargs: Any) -> Engine:
    """The engine for ``url``; a malformed URL, an unknown database or a driver that is not
    installed is a :class:`SettingError` naming ``AUDITROUND_DATABASE_URL`` and the form."""
    url = url or default_url()
    try:
        if url.startswith("sqlite"):
            kwargs.setdefault("connect_args", {"timeout": 30})
            engine = create_engine(url, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, **kwargs)
    except NoSuchModuleError:
        scheme = url.partition(":")[0]
        raise _wrong_url(url, f"names no database auditround can use ('{scheme}')") from None
    except ArgumentError:
        raise _wrong_url(url, "is not a database URL") from None
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise _wrong_url(url, f"needs a driver that is not installed ({missing})") from None
    except ValueError:  # a port that is not a number, for instance
        raise _wrong_url(url, "is not a database URL") from None


URL_FORMS = "sqlite:///path/to/auditround.db or postgresql+psycopg://user@host/database"


def _wrong_url(url: str, why: str) -> SettingError:
    shown = re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)  # never print a password
    return SettingError(
        f"The database setting AUDITROUND_DATABASE_URL (or --database) '{shown}' {why}: "
        f"use {URL_FORMS}."
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig  # only the commands that migrate need it

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_migrated(engine: Engine) -> bool:
    return "audit_event" in inspect(engine).get_table_names()


def installation_id(engine: Engine) -> str:
    """This installation's random id (made when the database was created)."""
    from sqlalchemy import select

    from audit_core.domain.models import Installation

    with engine.connect() as conn:
        found = conn.scalar(select(Installation.installation_id).where(Installation.id == 1))
    if not found:
        raise RuntimeError("the database has no installation id: run 'auditround db upgrade'")
    return str(found)
