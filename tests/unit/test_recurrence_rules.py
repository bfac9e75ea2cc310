"""Which lesson themes of a round recur from the area's previous round: the rule of a well
established finding, from plain values."""

from __future__ import annotations

import datetime as dt

from audit_core.domain.recurrence import (
    AreaRound,
    area_history,
    lesson_recurs,
    named,
    previous_round,
    recurring_by_round,
    recurring_from,
)

LAUNCH = dt.datetime(2026, 4, 13, 8, tzinfo=dt.UTC)


def launched(round_id: str, weeks: int, *themes: str, cancelled: bool = False) -> AreaRound:
    return AreaRound(
        round_id, LAUNCH + dt.timedelta(weeks=weeks), frozenset(themes), cancelled=cancelled
    )


def test_a_theme_in_consecutive_rounds_recurs() -> None:
    rounds = [
        launched("2026-H1", 0, "fathers", "voice"),
        launched("2026-H2", 26, "fathers", "thresholds"),
    ]

    assert recurring_by_round(rounds) == {
        "2026-H1": frozenset(),
        "2026-H2": frozenset({"fathers"}),
    }


def test_only_consecutive_rounds_count_so_a_gap_starts_again() -> None:
    rounds = [
        launched("2025-H2", 0, "fathers"),
        launched("2026-H1", 26, "voice"),
        launched("2026-H2", 52, "fathers", "voice"),
    ]

    assert recurring_by_round(rounds)["2026-H2"] == frozenset({"voice"})


def test_rounds_are_ordered_by_launch_and_cancelled_or_unlaunched_ones_do_not_count() -> None:
    rounds = [
        launched("2026-H2", 26, "fathers"),
        launched("2026-H1-cancelled-1", 10, "voice", cancelled=True),
        AreaRound("2027-H1", None, frozenset({"fathers"})),
        launched("2026-H1", 0, "fathers"),
    ]

    assert [r.round_id for r in area_history(rounds)] == ["2026-H1", "2026-H2"]
    previous = previous_round(rounds, "2026-H2")
    assert previous is not None and previous.round_id == "2026-H1"
    assert previous_round(rounds, "2026-H1") is None  # the area's first round
    assert previous_round(rounds, "2027-H1") is None  # not launched
    assert recurring_by_round(rounds)["2026-H2"] == frozenset({"fathers"})


def test_two_rounds_launched_at_once_are_ordered_by_id() -> None:
    same = [AreaRound("2026-H2", LAUNCH), AreaRound("2026-H1", LAUNCH)]

    assert [r.round_id for r in area_history(same)] == ["2026-H1", "2026-H2"]


def test_a_lesson_recurs_when_its_theme_was_a_lesson_in_an_area_of_its_cases() -> None:
    previous = {"hackney": frozenset({"fathers"}), "city": frozenset({"voice"})}

    assert lesson_recurs("fathers", ["hackney"], previous)
    assert lesson_recurs("voice", ["hackney", "city"], previous)
    assert not lesson_recurs("voice", ["hackney"], previous)
    assert not lesson_recurs("fathers", ["elsewhere"], previous)
    assert recurring_from([], ["fathers"]) == frozenset()


def test_themes_are_named_in_the_taxonomys_order_then_any_it_no_longer_has() -> None:
    names = {"voice": "Voice of the child", "fathers": "Engaging fathers"}

    assert named({"fathers", "gone", "voice"}, names) == (
        ("voice", "Voice of the child"),
        ("fathers", "Engaging fathers"),
        ("gone", "gone"),
    )
