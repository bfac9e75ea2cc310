"""the audit day and the briefing: agreed grades per case, moderated findings, briefings by area

Revision ID: 0006
Revises: 0005
What the audit day agrees about each case (``case_moderation``: the agreed
grade, the key findings and the brief summary the briefing prints). A finding
now keeps the agencies it came from, the audit day's decision whether it goes
forward to the briefing, and its order. A briefing speaks of one area over one
or more rounds: the table is made again keyed by area, scope and version (no
briefing was written before this revision), with who drafted, approved and
issued each version, and the issued HTML and the PDF's SHA-256.

Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_moderation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_case_id", sa.Integer(), nullable=False),
        sa.Column("agreed_grade", sa.String(length=64), nullable=True),
        sa.Column("key_findings", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("moderated_at", sa.DateTime(), nullable=False),
        sa.Column("moderated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_case_id"],
            ["round_case.id"],
            name=op.f("fk_case_moderation_round_case_id_round_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_moderation")),
        sa.UniqueConstraint("round_case_id", name=op.f("uq_case_moderation_round_case_id")),
    )
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agencies", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("forward", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.drop_table("briefing")
    _create_briefing()


def _create_briefing() -> None:
    op.create_table(
        "briefing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("round_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_briefing_area_id_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing")),
        sa.UniqueConstraint("area_id", "scope", "version", name="uq_briefing_area_scope_version"),
    )
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_area_id"), ["area_id"], unique=False)


def downgrade() -> None:
    op.drop_table("briefing")
    op.create_table(
        "briefing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["audit_round.id"], name=op.f("fk_briefing_round_id_audit_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing")),
        sa.UniqueConstraint("round_id", "version", name="uq_briefing_round_version"),
    )
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_briefing_round_id"), ["round_id"], unique=False)
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("position")
        batch_op.drop_column("forward")
        batch_op.drop_column("agencies")
    op.drop_table("case_moderation")
