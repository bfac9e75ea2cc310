"""the portal: when a link was opened, a return's concern and reopening, dashboard users

Revision ID: 0005
Revises: 0004
Each assignment keeps when its auditor first opened the current link
(``opened_at``). A return keeps the description of an immediate safeguarding
concern (``concern_text``), and when and by whom the business unit reopened it
after the deadline lock. The dashboard's users (``portal_user``, an Argon2 hash
of each password) and their signed-in sessions (``portal_session``, keyed by the
hash of the id the cookie holds) are new tables.

Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("audit_return", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concern_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reopened_by", sa.String(length=200), nullable=True))
    op.create_table(
        "portal_user",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=11), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_user")),
    )
    op.create_table(
        "portal_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["portal_user.id"], name=op.f("fk_portal_session_user_id_portal_user")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_portal_session")),
    )
    with op.batch_alter_table("portal_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_portal_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_portal_session_expires_at"))
    op.drop_table("portal_session")
    op.drop_table("portal_user")
    with op.batch_alter_table("audit_return", schema=None) as batch_op:
        batch_op.drop_column("reopened_by")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("concern_text")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("opened_at")
