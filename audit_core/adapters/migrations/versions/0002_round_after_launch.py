"""a round after launch: cancellation, declines, reassigned tasks, issued tasks

Revision ID: 0002
Revises: 0001
A round can be cancelled (when, why). An assignment keeps when its task was
issued (``sent_at`` becomes ``issued_at``, and the status ``sent`` becomes
``issued``: whether the email was delivered is its outbox message's state), how
many tasks were issued before the current one (each auditor given the audit
gets a task email of their own), and a decline with its reason. An outbox
message can be withdrawn: a task whose link was retired before it was sent is
never sent. The installation gets its random id, made once here, which every
Message-ID is derived from together with the message's dedupe key.

Create Date: 2026-12-01 22:20:00
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.alter_column("sent_at", new_column_name="issued_at")
        batch_op.add_column(
            sa.Column("task_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("declined_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("declined_reason", sa.Text(), nullable=True))
    op.execute("UPDATE assignment SET status = 'issued' WHERE status = 'sent'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:  # 'withdrawn'
        batch_op.alter_column("status", existing_type=sa.String(7), type_=sa.String(9))
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.bulk_insert(
        installation, [{"id": 1, "installation_id": secrets.token_hex(16), "created_at": now}]
    )


def downgrade() -> None:
    op.drop_table("installation")
    op.execute("UPDATE outbox_message SET status = 'failed' WHERE status = 'withdrawn'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(9), type_=sa.String(7))
    op.execute("UPDATE assignment SET status = 'sent' WHERE status = 'issued'")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("declined_reason")
        batch_op.drop_column("declined_at")
        batch_op.drop_column("task_number")
        batch_op.alter_column("issued_at", new_column_name="sent_at")
    with op.batch_alter_table("audit_round", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
