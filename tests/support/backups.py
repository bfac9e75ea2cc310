"""Backing a test's database up and restoring it into a fresh one, the way docs/operations.md
tells an operator to: ``pg_dump -Fc`` and ``pg_restore`` on PostgreSQL, SQLite's online
backup API (what ``sqlite3 .backup`` uses) on SQLite, never a copy of the live file."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import make_url

from support.databases import empty_database


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def libpq(url: str) -> str:
    """The SQLAlchemy URL as the PostgreSQL client programs take it (no ``+psycopg``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def back_up(url: str, folder: Path) -> Path:
    """A backup of the database at ``url``, taken while it is in use; its file."""
    if is_sqlite(url):
        target = folder / "auditround-backup.db"
        source = make_url(url).database
        assert source
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
        return target
    target = folder / "auditround.dump"
    _run("pg_dump", "--format=custom", f"--file={target}", f"--dbname={libpq(url)}")
    return target


@contextmanager
def restored(backup: Path, url: str, folder: Path) -> Iterator[str]:
    """The backup restored into a fresh database beside the one at ``url``; its URL. A
    PostgreSQL database made for it is dropped afterwards."""
    if is_sqlite(url):
        target = folder / "auditround-restored.db"
        with closing(sqlite3.connect(backup)) as saved, closing(sqlite3.connect(target)) as fresh:
            saved.backup(fresh)
        yield f"sqlite:///{target}"
        return
    with empty_database(url) as fresh:
        _run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(fresh)}", str(backup))
        yield fresh


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{command[0]} failed: {done.stderr}"
