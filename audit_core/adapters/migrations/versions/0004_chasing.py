"""chasing: the steps taken for each return, and when its chase is next due

Revision ID: 0004
Revises: 0003
Every step of a return's chase that was taken (a reminder, the overdue reminder,
an escalation) is kept once per task and deadline in ``chase_step``, with the
address it went to and its outbox message. Each assignment gets ``chase_on``, the
next day a step may be due, indexed so that the daily sweep reads only what is
due. Tasks already out get a date two weeks before their deadline (earlier than
any reminder), which the first sweep replaces with the exact one. The embedded
scheduler's job store (``apscheduler_jobs``, APScheduler's layout) is made here too.

Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chase_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_assignment_chase_on"), ["chase_on"], unique=False)
    op.create_table(
        "chase_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_chase_step_assignment_id_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_chase_step_outbox_message_id_outbox_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chase_step")),
        sa.UniqueConstraint(
            "assignment_id", "task_number", "due_on", "step", name="uq_chase_step_once"
        ),
    )
    op.create_table(  # the embedded scheduler's job store, in APScheduler's layout
        "apscheduler_jobs",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index(
        op.f("ix_apscheduler_jobs_next_run_time"), "apscheduler_jobs", ["next_run_time"]
    )
    # Date arithmetic is written differently on each engine.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE assignment SET chase_on = due_on - 14 WHERE status = 'issued'")
    else:
        op.execute(
            "UPDATE assignment SET chase_on = date(due_on, '-14 days') WHERE status = 'issued'"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_apscheduler_jobs_next_run_time"), table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("chase_step")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_chase_on"))
        batch_op.drop_column("chase_on")
