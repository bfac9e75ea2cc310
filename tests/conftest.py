"""Shared fixtures: a real, migrated database per test, the example config, a fixed clock.

The database is SQLite by default. Set ``AUDITROUND_TEST_DATABASE_URL`` (as
``.ci/run`` does) to run the same tests on PostgreSQL; if that server cannot
be reached the tests fail, they are not skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from audit_core import db
from audit_core.config import BoardConfig, load_config
from audit_core.models import Base

PROJECT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT / "config"
LONDON = ZoneInfo("Europe/London")

os.environ.setdefault("PREFECT_HOME", str(PROJECT / "var" / "test-prefect"))
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def test_database_url() -> str | None:
    return os.environ.get("AUDITROUND_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def config() -> BoardConfig:
    return load_config(CONFIG_DIR)


@pytest.fixture
def now() -> dt.datetime:
    """Monday 2 March 2026, 09:00 London time."""
    return dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per test session: a template SQLite file, or the PostgreSQL schema."""
    url = test_database_url()
    if url is None:
        path = tmp_path_factory.mktemp("db") / "template.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        return str(path)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # a PostgreSQL run that cannot reach its server must fail
        pytest.fail(f"cannot reach the test database {url}: {exc}", pytrace=False)
    db.upgrade(engine)
    engine.dispose()
    return url


def _empty_postgres(engine: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # the append-only trigger on audit_event must not stop a test's clean-up
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> str:
    """The URL of a freshly migrated, empty database for this test."""
    if test_database_url() is None:
        path = tmp_path / "auditround.db"
        shutil.copyfile(_migrated_template, path)
        return f"sqlite:///{path}"
    return _migrated_template


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    if engine.dialect.name == "postgresql":
        _empty_postgres(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_factory(engine)() as session:
        yield session


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> str:
    """Point the CLI at this test's database and the example configuration."""
    monkeypatch.setenv("AUDITROUND_DATABASE_URL", database_url)
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    monkeypatch.delenv("AUDITROUND_NOW", raising=False)
    return database_url


DATABASE_FIXTURES = frozenset({"database_url", "engine", "session", "cli_env"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that touches the database is marked ``database``, so the PostgreSQL run has it."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
