"""The audit trail's hashes: what they cover, and how a stored trail is checked (no IO)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from audit_core.domain.trail import GENESIS, chained, check, event_hash

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


def _event(n: int, **changes: Any) -> dict[str, Any]:
    event = {
        "at": AT + dt.timedelta(minutes=n),
        "actor": "alice",
        "action": "created",
        "object_type": "audit_round",
        "object_id": f"2026-H{n}",
        "round_id": None,
        "details": {"focus": "think-family", "areas": ["city", "hackney"]},
    }
    return {**event, **changes}


def _stored(count: int) -> list[dict[str, Any]]:
    """Events as stored: with their ids (101, 102, ...)."""
    rows = chained([_event(n) for n in range(count)], 0, GENESIS)
    return [{**row, "id": 100 + row["seq"]} for row in rows]


def test_each_event_follows_the_one_before_it() -> None:
    rows = chained([_event(0), _event(1), _event(2)], 0, GENESIS)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert len({r["hash"] for r in rows}) == 3


def test_the_hash_is_the_same_whatever_the_time_zone_and_the_order_of_the_details() -> None:
    (row,) = chained([_event(0)], 0, GENESIS)
    same = {
        **row,
        "at": row["at"].astimezone(dt.UTC),
        "details": {"areas": ["city", "hackney"], "focus": "think-family"},
    }
    assert event_hash(same, GENESIS) == row["hash"]


def test_every_part_of_an_event_is_covered_by_its_hash() -> None:
    (row,) = chained([_event(0)], 0, GENESIS)
    changes = {
        "seq": 2,
        "at": row["at"] + dt.timedelta(microseconds=1),
        "actor": "mallory",
        "action": "deleted",
        "object_type": "case_file",
        "object_id": "2026-H9",
        "round_id": "2026-H1",
        "details": {"focus": "neglect", "areas": ["city", "hackney"]},
    }
    for name, value in changes.items():
        assert event_hash({**row, name: value}, GENESIS) != row["hash"], name
    assert event_hash(row, "1" * 64) != row["hash"]


def test_an_intact_trail_reports_how_many_events_were_checked_and_the_last_hash() -> None:
    rows = _stored(4)
    found = check(4, rows[-1]["hash"], rows)
    assert found.intact
    assert (found.checked, found.last_seq, found.last_hash) == (4, 4, rows[-1]["hash"])
    assert found.sentence().startswith("audit trail intact: 4 events checked")


def test_an_empty_trail_is_intact() -> None:
    assert check(0, GENESIS, []).sentence() == "audit trail intact: 0 events (nothing recorded yet)"


def test_a_changed_event_is_named() -> None:
    rows = _stored(4)
    rows[1] = {**rows[1], "actor": "mallory"}
    found = check(4, rows[-1]["hash"], rows)
    assert found.broken is not None
    assert found.checked == 1
    assert found.broken.sentence() == (
        "audit trail broken at event #2 (id 102): its content does not match its hash"
    )


def test_a_changed_event_given_a_new_hash_breaks_the_link_of_the_next_one() -> None:
    rows = _stored(4)
    forged = {**rows[1], "actor": "mallory"}
    rows[1] = {**forged, "hash": event_hash(forged, forged["prev_hash"])}
    found = check(4, rows[-1]["hash"], rows)
    assert found.broken is not None
    assert found.broken.sentence() == (
        "audit trail broken at event #3 (id 103): the event before it is missing or changed"
    )


def test_a_removed_event_breaks_the_link_of_the_next_one() -> None:
    rows = _stored(4)
    del rows[0]
    found = check(4, rows[-1]["hash"], rows)
    assert found.broken is not None and (found.broken.why, found.broken.seq) == ("link", 2)


def test_the_last_events_removed_are_counted_against_the_head() -> None:
    rows = _stored(5)
    found = check(5, rows[-1]["hash"], rows[:3])
    assert found.checked == 3
    assert found.broken is not None
    assert found.broken.sentence() == (
        "audit trail broken: the last 2 events are missing "
        "(the chain head says the trail ends at event #5)"
    )


def test_events_beyond_the_head_were_not_added_by_auditround() -> None:
    rows = _stored(5)
    found = check(3, rows[2]["hash"], rows)
    assert found.broken is not None
    assert (found.broken.why, found.broken.seq, found.broken.count) == ("unknown", 4, 2)


def test_a_last_event_rewritten_with_its_hash_no_longer_matches_the_head() -> None:
    rows = _stored(3)
    head_hash = rows[-1]["hash"]
    forged = {**rows[-1], "actor": "mallory"}
    rows[-1] = {**forged, "hash": event_hash(forged, forged["prev_hash"])}
    found = check(3, head_hash, rows)
    assert found.broken is not None and (found.broken.why, found.broken.seq) == ("head", 3)


def test_a_trail_rewritten_whole_shows_at_the_place_noted_earlier() -> None:
    rows = _stored(4)
    noted = (2, rows[1]["hash"])
    rewritten = [
        {**row, "id": row["seq"] + 100}
        for row in chained([_event(n, actor="mallory") for n in range(4)], 0, GENESIS)
    ]
    assert check(4, rewritten[-1]["hash"], rewritten).intact
    found = check(4, rewritten[-1]["hash"], rewritten, noted)
    assert found.broken is not None
    assert found.sentence() == (
        "audit trail broken at event #2 (id 102): its hash is not the one noted for it, so the "
        "trail was rewritten up to there"
    )
    assert check(4, rows[-1]["hash"], rows, noted).intact


def test_a_noted_event_that_is_gone_breaks_the_trail() -> None:
    rows = _stored(2)
    found = check(2, rows[-1]["hash"], rows, (3, "a" * 64))
    assert found.sentence() == "audit trail broken: event #3, whose hash was noted, is gone"
