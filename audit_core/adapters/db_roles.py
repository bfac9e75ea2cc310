"""PostgreSQL roles: the owner of the tables migrates; the application runs as another role.

The owner of a table can switch its triggers off (``ALTER TABLE ... DISABLE
TRIGGER``), and a superuser can ignore them (``session_replication_role``). So
the application connects as a role that is neither: it may read and write the
tables, but only read and add to the audit trail (``audit_event``: SELECT and
INSERT; its head ``audit_chain``: SELECT and UPDATE, which triggers let only move
forward). :func:`grant_statements` is that set of privileges, and
:func:`grant_application_role` gives it. Migrations run as the owner:
``AUDITROUND_MIGRATION_DATABASE_URL`` (:func:`owner_engine`), which must name the
application's database. See ``docs/postgresql.md``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url

from audit_core.domain.errors import NotFound, SettingError

# The tables the application may not change freely: what it may do with each.
LIMITED: dict[str, tuple[str, ...]] = {
    "audit_event": ("SELECT", "INSERT"),
    "audit_chain": ("SELECT", "UPDATE"),
    "installation": ("SELECT",),
    "alembic_version": ("SELECT",),
}
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")


def owner_engine(owner_url: str, app_engine: Engine, **kwargs: Any) -> Engine:
    """The engine that migrates, as the owner of the tables; refused unless its URL names the
    application's database (a wrong variable must never migrate another database)."""
    from audit_core.adapters.db import make_engine

    owner = make_engine(owner_url, **kwargs)
    if _place(owner.url) != _place(app_engine.url):
        shown, app = (e.url.render_as_string(hide_password=True) for e in (owner, app_engine))
        owner.dispose()
        raise SettingError(
            f"AUDITROUND_MIGRATION_DATABASE_URL ({shown}) names another database than "
            f"the application's ({app}): give the same database, with the owner of its tables."
        )
    return owner


def _place(url: URL) -> tuple[str, str, int | None, str]:
    url = make_url(url)
    port = url.port or (5432 if url.get_backend_name() == "postgresql" else None)
    host = "localhost" if url.host in (None, "", "127.0.0.1", "::1") else url.host
    return url.get_backend_name(), host, port, url.database or ""


def grant_statements(engine: Engine, role: str) -> list[str]:
    """The SQL that gives ``role`` what the application needs, and no more, on every table of
    the schema; and the same on the tables that later migrations make."""
    quote = engine.dialect.identifier_preparer.quote
    who = quote(role)
    schema = quote(inspect(engine).default_schema_name or "public")
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
    ]
    for table in sorted(inspect(engine).get_table_names()):
        privileges = ", ".join(LIMITED.get(table, READ_WRITE))
        statements.append(f"GRANT {privileges} ON {schema}.{quote(table)} TO {who}")
    return [
        *statements,
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT {', '.join(READ_WRITE)} ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
    ]


def grant_application_role(engine: Engine, role: str, *, dry_run: bool = False) -> list[str]:
    """Give ``role`` the application's privileges, as the owner (``engine``); the SQL run
    (with ``dry_run``, the SQL that would be run).

    Refused for a role that could switch the audit trail's triggers off: a superuser,
    or the owner of the tables (or a member of the owner's role).
    """
    if engine.dialect.name != "postgresql":
        raise SettingError("Roles are a PostgreSQL matter: SQLite has none to grant.")
    statements = grant_statements(engine, role)
    with engine.begin() as conn:
        found = conn.execute(
            text(
                "SELECT r.rolsuper, pg_has_role(r.oid, t.tableowner, 'MEMBER') "
                "FROM pg_roles r, pg_tables t WHERE r.rolname = :role "
                "AND t.schemaname = current_schema() AND t.tablename = 'audit_event'"
            ),
            {"role": role},
        ).one_or_none()
        if found is None:
            raise NotFound(
                f"There is no PostgreSQL role '{role}' (or the database is not set up): "
                f"create it first, e.g. CREATE ROLE {role} LOGIN PASSWORD '...'."
            )
        superuser, owns = found
        if superuser or owns:
            raise SettingError(
                f"PostgreSQL role '{role}' is a superuser or owns the tables, so it could switch "
                "the audit trail's triggers off: run the application as a role that does not."
            )
        for statement in [] if dry_run else statements:
            conn.execute(text(statement))
    return statements
