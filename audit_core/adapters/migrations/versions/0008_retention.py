"""retention: when a round's returns were purged, and when a message's bytes were

Revision ID: 0008
Revises: 0007
``auditround retention run`` purges the free text of a round's returns once the
round has been closed (or cancelled) for ``board.retention.returns_months``, and
the stored bytes of its emails. ``audit_round.purged_at`` is when the round's
returns were purged (a purged round is never purged again);
``outbox_message.body_purged_at`` is when a message's bytes (its ``outbox_body``
row) were deleted: the message's envelope (kind, recipients, subject, times,
status) stays as the record of what was sent to whom.

Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_round", sa.Column("purged_at", sa.DateTime(), nullable=True))
    op.add_column("outbox_message", sa.Column("body_purged_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later), not a batch: a batch makes the table
    # anew, which SQLite refuses with its foreign keys on while other tables refer to rows.
    op.drop_column("outbox_message", "body_purged_at")
    op.drop_column("audit_round", "purged_at")
