"""action tracking: actions with their theme, owner, measure and follow-up; evidence; chase steps

Revision ID: 0007
Revises: 0006
An action now keeps its theme and area, how success will be measured, its owner
as a person of the configuration (when they are one), why it was dropped, the
secure links sent to its owner (``link_number``, ``link_sent_at``), the next day
a follow-up step may be due (``chase_on``, indexed), who made it and when it
was closed. Each update may carry evidence. ``action_chase_step`` keeps each
follow-up step taken, once per action, step and due date. The status
``cancelled`` is now ``dropped`` (no action was written before this revision).

Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("theme_id", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("area_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("measure", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("owner_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("status_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("link_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("link_sent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("chase_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("created_by", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_action_chase_on"), ["chase_on"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_action_area_id_area"), "area", ["area_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_action_owner_id_person"), "person", ["owner_id"], ["id"]
        )
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "action_chase_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("to", sa.String(length=254), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action.id"], name=op.f("fk_action_chase_step_action_id_action")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_action_chase_step_outbox_message_id_outbox_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_chase_step")),
        sa.UniqueConstraint("action_id", "step", "due_on", name="uq_action_chase_step_once"),
    )
    with op.batch_alter_table("action_chase_step", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_chase_step_action_id"), ["action_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_chase_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_chase_step_action_id"))
    op.drop_table("action_chase_step")
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.drop_column("evidence")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_action_owner_id_person"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_action_area_id_area"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_action_chase_on"))
        for column in (
            "closed_at",
            "created_by",
            "chase_on",
            "link_sent_at",
            "link_number",
            "status_reason",
            "owner_id",
            "measure",
            "area_id",
            "theme_id",
        ):
            batch_op.drop_column(column)
