"""The rules of retention: when a round is due for its purge (whole months of the board's
calendar from the day it ended), what of a return is kept, and which emails' bytes go."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.retention import (
    RoundPurge,
    RoundSpan,
    bytes_may_go,
    is_due,
    message_rounds,
    purge_from,
    strip_return,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("ended", "months", "due"),
    [
        (dt.date(2026, 6, 10), 24, dt.date(2028, 6, 10)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),  # no 31 February: its last day
        (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),  # a leap year's
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),  # across the new year
        (dt.date(2026, 3, 31), 120, dt.date(2036, 3, 31)),  # the longest the board may set
    ],
)
def test_a_round_is_due_whole_months_after_the_day_it_ended(
    ended: dt.date, months: int, due: dt.date
) -> None:
    assert purge_from(ended, months) == due
    assert not is_due(ended, months, due - dt.timedelta(days=1))
    assert is_due(ended, months, due)
    assert is_due(ended, months, due + dt.timedelta(days=400))


def test_a_round_that_has_not_ended_is_never_due() -> None:
    assert not is_due(None, 1, dt.date(2099, 1, 1))


def test_a_return_keeps_its_grades_and_themes_and_nothing_it_said() -> None:
    stripped = strip_return(
        {
            "recognition": {
                "grade": "good",
                "good_practice": "Seen within a week.",
                "development": "The referral waited.",
                "recommendations": "",
            },
            "planning": {"grade": "outstanding", "good_practice": "", "development": ""},
            "voice": {"grade": None, "good_practice": "Only words, no grade."},
        },
        [{"theme": "information-sharing", "key_phrase": "one chronology", "text": "Kept one."}],
        [{"theme": "voice-of-the-child", "text": "Not recorded."}, {"theme": "", "text": "Odd."}],
    )

    assert stripped.answers == {
        "recognition": {"grade": "good"},
        "planning": {"grade": "outstanding"},
    }
    assert stripped.strengths == [{"theme": "information-sharing"}]
    assert stripped.lessons == [{"theme": "voice-of-the-child"}]  # a draft's row with no theme
    assert stripped.texts == 7  # 2 + 1 in sections, 2 in the strength, 2 in the lessons


def test_a_return_stripped_again_loses_nothing_more() -> None:
    once = strip_return(
        {"recognition": {"grade": "good", "good_practice": "Seen."}},
        [{"theme": "information-sharing", "key_phrase": "k", "text": "t"}],
        [],
    )
    twice = strip_return(once.answers, once.strengths, once.lessons)

    assert (twice.answers, twice.strengths, twice.lessons) == (
        once.answers,
        once.strengths,
        once.lessons,
    )
    assert twice.texts == 0


H1 = RoundSpan(
    "2026-H1", dt.datetime(2026, 3, 2, 9, tzinfo=UTC), dt.datetime(2026, 6, 10, 9, tzinfo=UTC)
)
H2 = RoundSpan("2026-H2", dt.datetime(2026, 10, 5, 8, tzinfo=UTC), None)  # still running
PLANNED = RoundSpan("2027-H1", None, None)


def test_an_email_is_about_the_rounds_it_names() -> None:
    at = dt.datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert message_rounds(["2026-H1", None], at, [H1, H2]) == {"2026-H1"}
    assert message_rounds(["2026-H1", "2026-H2"], at, [H1, H2]) == {"2026-H1", "2026-H2"}


@pytest.mark.parametrize(
    ("queued", "rounds"),
    [
        (dt.datetime(2026, 3, 2, 8, 59, tzinfo=UTC), set()),  # before any launch
        (dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), {"2026-H1"}),  # at the launch
        (dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC), {"2026-H1"}),  # at the close
        (dt.datetime(2026, 6, 10, 9, 1, tzinfo=UTC), set()),
        (dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC), {"2026-H2"}),
    ],
)
def test_an_email_naming_no_round_is_about_those_in_the_field_when_it_was_queued(
    queued: dt.datetime, rounds: set[str]
) -> None:
    assert message_rounds([None], queued, [H1, H2, PLANNED]) == rounds


def test_an_emails_bytes_go_only_once_every_round_it_is_about_is_due() -> None:
    assert bytes_may_go(frozenset({"2026-H1"}), {"2026-H1"})
    assert not bytes_may_go(frozenset({"2026-H1", "2026-H2"}), {"2026-H1"})
    assert not bytes_may_go(frozenset(), {"2026-H1"})  # about no round: never


def test_a_rounds_purge_counts_nothing_but_numbers() -> None:
    purge = RoundPurge("2026-H1", "closed", dt.date(2026, 6, 10), dt.date(2028, 6, 10))
    assert not purge.anything
    purge.messages = 3
    assert purge.anything
    assert set(purge.counts().values()) == {0, 3}
    assert purge.to_json()["due_from"] == "2028-06-10"
