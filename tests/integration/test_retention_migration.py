"""Migration 0008 adds when a round's returns and a message's bytes were purged, to a
database that already holds rounds and email, on SQLite and PostgreSQL; and takes it off
again, keeping the rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from audit_core.adapters import db

ROUND = (
    "INSERT INTO audit_round (id, focus_id, areas, status, seed, cases_requested, "
    "audit_tool_id, audit_tool_version, launch_on, due_on, audit_day_on, briefing_due_on, "
    "planned_at, planned_by, closed_at) VALUES ('2026-H1', 'think-family', '[]', 'closed', 1, "
    "'{}', 'macfa', 1, '2026-03-02', '2026-03-30', '2026-04-15', '2026-05-05', "
    "'2026-02-27 10:00:00', 'alice', '2026-04-20 09:00:00')"
)
MESSAGE = (
    "INSERT INTO outbox_message (id, dedupe_key, kind, message_id, sender, recipients, "
    "subject, round_id, status, attempts, next_attempt_at, refused_recipients, queued_at) "
    "VALUES (1, 'task:1', 'task', '<m1@example.org>', 'a@example.org', '[]', 'Case audit', "
    "'2026-H1', 'sent', 1, '2026-03-02 09:00:00', '{}', '2026-03-02 09:00:00')"
)


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


@pytest.mark.database
def test_the_purge_columns_are_added_empty_to_the_rows_held_and_taken_off_again(
    empty_engine: Engine,
) -> None:
    db.upgrade(empty_engine, "0007")
    with empty_engine.begin() as conn:
        conn.execute(text(ROUND))
        conn.execute(text(MESSAGE))
        conn.execute(text("INSERT INTO outbox_body (id, raw) VALUES (1, :raw)"), {"raw": b"x"})

    db.upgrade(empty_engine, "0008")

    assert "purged_at" in columns(empty_engine, "audit_round")
    assert "body_purged_at" in columns(empty_engine, "outbox_message")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT id, purged_at FROM audit_round")).all() == [
            ("2026-H1", None)
        ]
        assert conn.execute(text("SELECT id, body_purged_at FROM outbox_message")).all() == [
            (1, None)
        ]

    db.downgrade(empty_engine, "0007")

    assert "purged_at" not in columns(empty_engine, "audit_round")
    assert "body_purged_at" not in columns(empty_engine, "outbox_message")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM audit_round")).scalars().all() == ["2026-H1"]
        assert conn.execute(text("SELECT raw FROM outbox_body")).scalars().all() == [b"x"]
