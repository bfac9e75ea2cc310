"""a tamper-evident audit trail: events hash-chained, REPLACE refused

Revision ID: 0003
Revises: 0002
Each audit event gets its place in the trail (``seq``), the hash of the event
before it and its own hash (``audit_core.domain.trail``); the events already
recorded are chained here, in the order they were written. ``audit_chain``
holds the trail's head (the last ``seq`` and hash), which writers lock to
append, and which only moves forward. On SQLite a trigger refuses an INSERT
that would replace an event (``REPLACE INTO``, ``INSERT OR REPLACE``, an
upsert), since a REPLACE deletes without firing the delete trigger; on
PostgreSQL the statement trigger on UPDATE already refuses upserts.

Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from audit_core.domain import trail

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_event is append-only"
FORWARD_ONLY = "audit_chain only moves forward"

SQLITE_EVENT_TRIGGERS = {
    "audit_event_no_update": f"BEFORE UPDATE ON audit_event BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "audit_event_no_delete": f"BEFORE DELETE ON audit_event BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
}
SQLITE_TRIGGERS = {
    **SQLITE_EVENT_TRIGGERS,
    "audit_event_no_replace": "BEFORE INSERT ON audit_event WHEN EXISTS (SELECT 1 FROM "
    "audit_event WHERE id = NEW.id OR seq = NEW.seq) BEGIN "
    f"SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "audit_chain_no_delete": f"BEFORE DELETE ON audit_chain BEGIN "
    f"SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END",
    "audit_chain_no_replace": "BEFORE INSERT ON audit_chain WHEN EXISTS (SELECT 1 FROM "
    f"audit_chain) BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END",
    "audit_chain_forward": "BEFORE UPDATE ON audit_chain WHEN NEW.id <> OLD.id OR "
    f"NEW.last_seq < OLD.last_seq BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END",
}
PG_CHAIN_FUNCTION = (
    "CREATE FUNCTION audit_chain_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.last_seq >= OLD.last_seq THEN "
    f"RETURN NEW; END IF; RAISE EXCEPTION '{FORWARD_ONLY}'; END $$"
)
PG_CHAIN_TRIGGERS = (
    "CREATE TRIGGER audit_chain_forward BEFORE UPDATE OR DELETE ON audit_chain "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain_forward()",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_forward()",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_EVENT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    head = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    last_seq, last_hash = _chain_recorded_events()
    op.bulk_insert(head, [{"id": 1, "last_seq": last_seq, "last_hash": last_hash}])
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        for name, length in (("seq", None), ("prev_hash", 64), ("hash", 64)):
            kind = sa.Integer() if length is None else sa.String(length=length)
            batch_op.alter_column(name, existing_type=kind, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])
    if dialect == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
        op.execute(PG_CHAIN_FUNCTION)
        for statement in PG_CHAIN_TRIGGERS:
            op.execute(statement)


def _chain_recorded_events() -> tuple[int, str]:
    """Chain the events already recorded, in the order they were written; the last place
    and hash."""
    events = sa.table(
        "audit_event",
        sa.column("id", sa.Integer()),
        sa.column("at", sa.DateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.String()),
        sa.column("round_id", sa.String()),
        sa.column("details", sa.JSON()),
        sa.column("seq", sa.Integer()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    names = ("id", "at", "actor", "action", "object_type", "object_id", "round_id", "details")
    found = bind.execute(sa.select(*(events.c[n] for n in names)).order_by(events.c.id))
    recorded = [dict(row._mapping) for row in found]
    for event in recorded:
        event["at"] = event["at"].replace(tzinfo=dt.UTC)  # stored as naive UTC
    rows = trail.chained(recorded, 0, trail.GENESIS)
    if rows:
        bind.execute(
            sa.update(events)
            .where(events.c.id == sa.bindparam("event_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            [
                {
                    "event_id": r["id"],
                    "seq": r["seq"],
                    "prev_hash": r["prev_hash"],
                    "hash": r["hash"],
                }
                for r in rows
            ],
        )
        return rows[-1]["seq"], rows[-1]["hash"]
    return 0, trail.GENESIS


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_forward ON audit_chain")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_forward()")
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    if dialect == "sqlite":  # the table was made anew without them
        for name, body in SQLITE_EVENT_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
