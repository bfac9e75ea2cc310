"""Which earlier actions an area's next briefing reports on, and how it prints them (no
database): open ones always, closed ones only once, after the briefing before."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from audit_core.adapters.briefing_render import actions_summary
from audit_core.domain.briefing import ActionProgress
from audit_core.domain.carry_over import (
    ActionRecord,
    EarlierBriefing,
    carried_over,
    printed_date,
    progress_line,
    reported,
    status_counts,
)

UTC = dt.UTC
EARLIER = dt.datetime(2026, 4, 13, 8, tzinfo=UTC)  # the action's round launched
SCOPE = dt.datetime(2026, 10, 5, 8, tzinfo=UTC)  # the briefing's first round launched
LAST = dt.datetime(2026, 6, 10, 9, tzinfo=UTC)  # the area's previous briefing issued
# ... of a round launched after the action's, so it could report on the action
PREVIOUS = [EarlierBriefing(issued_at=LAST, scope_starts=EARLIER + dt.timedelta(days=7))]
NAMES = {"fathers": "Engaging fathers", "voice": "Voice of the child"}


def action(n: int = 1, **changes: object) -> ActionRecord:
    made = ActionRecord(
        action_id=n,
        round_id="2026-H1",
        round_launched_at=EARLIER,
        theme_id="fathers",
        text="Add a prompt on fathers.",
        agency_name="Hackney Children and Families Service",
        due_on=dt.date(2026, 9, 30),
        status="open",
        rag="green",
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def is_reported(a: ActionRecord, earlier: list[EarlierBriefing] = PREVIOUS) -> bool:
    return reported(a, scope_starts=SCOPE, earlier=earlier)


@pytest.mark.parametrize("status", ["open", "in_progress"])
def test_an_action_still_open_is_reported(status: str) -> None:
    assert is_reported(action(status=status))


def test_an_action_closed_since_the_previous_briefing_is_reported_once() -> None:
    closed_since = action(status="done", closed_at=dt.datetime(2026, 9, 1, tzinfo=UTC))
    closed_before = action(status="dropped", closed_at=dt.datetime(2026, 6, 1, tzinfo=UTC))

    assert is_reported(closed_since)
    assert not is_reported(closed_before)  # that briefing reported it


def test_with_no_briefing_issued_before_a_closed_action_is_reported() -> None:
    assert is_reported(action(status="done", closed_at=dt.datetime(2026, 6, 1, tzinfo=UTC)), [])


def test_a_closed_action_its_own_rounds_briefing_could_not_report_is_reported_next_time() -> None:
    # made from the lessons of the round of 13 April and done on 1 June, before that
    # round's own briefing of 10 June, which reports only on earlier rounds' actions
    own_round = [EarlierBriefing(issued_at=LAST, scope_starts=EARLIER)]
    done_early = action(status="done", closed_at=dt.datetime(2026, 6, 1, tzinfo=UTC))

    assert is_reported(done_early, own_round)
    assert not is_reported(done_early, [*own_round, *PREVIOUS])


def test_an_action_of_a_round_the_briefing_covers_is_not_reported() -> None:
    assert not is_reported(action(round_launched_at=SCOPE))
    assert not is_reported(action(round_launched_at=SCOPE + dt.timedelta(days=1)))


def test_each_action_is_printed_by_agency_with_its_due_date_status_rag_and_note() -> None:
    [printed] = carried_over(
        [action(status="in_progress", rag="red", latest_note="  Booked \n for the autumn. ")],
        scope_starts=SCOPE,
        earlier=PREVIOUS,
        theme_names=NAMES,
    )

    assert printed == ActionProgress(
        round_id="2026-H1",
        theme_id="fathers",
        heading="Engaging fathers",
        text="Add a prompt on fathers.",
        agency="Hackney Children and Families Service",
        due_on="30 September 2026",
        status="in_progress",
        rag="red",
        progress="Booked for the autumn.",
    )


def test_a_dropped_action_shows_no_rag() -> None:
    dropped = action(status="dropped", closed_at=dt.datetime(2026, 9, 1, tzinfo=UTC))

    [printed] = carried_over([dropped], scope_starts=SCOPE, earlier=PREVIOUS, theme_names=NAMES)

    assert (printed.status, printed.rag) == ("dropped", "")


def test_the_actions_come_by_round_then_theme_then_due_date() -> None:
    later_round = dt.datetime(2026, 5, 1, tzinfo=UTC)
    chosen = carried_over(
        [
            action(1, round_launched_at=later_round, round_id="2026-H1b"),
            action(2, theme_id="voice"),
            action(3, due_on=dt.date(2026, 12, 1)),
            action(4),
        ],
        scope_starts=SCOPE,
        earlier=PREVIOUS,
        theme_names=NAMES,
    )

    assert [(a.round_id, a.theme_id, a.due_on) for a in chosen] == [
        ("2026-H1", "fathers", "30 September 2026"),
        ("2026-H1", "fathers", "1 December 2026"),
        ("2026-H1", "voice", "30 September 2026"),
        ("2026-H1b", "fathers", "30 September 2026"),
    ]


def test_the_note_is_one_line_of_at_most_200_characters_cut_at_a_word() -> None:
    note = "word " * 60

    line = progress_line(note)

    assert len(line) <= 200 and line.endswith("word…")
    assert progress_line("") == ""


def test_a_note_that_could_identify_a_child_is_left_out() -> None:
    assert progress_line("Spoke to the family at E8 1DY.") == ""
    assert progress_line("Emailed jo@example.org.") == ""
    assert progress_line("Done on 12/05/2026.") == "Done on 12/05/2026."  # a date is fine


def test_dates_print_in_words_and_counts_follow_the_life_of_an_action() -> None:
    assert printed_date(dt.date(2026, 11, 14)) == "14 November 2026"
    printed = carried_over(
        [
            action(1, status="done", rag="green", closed_at=dt.datetime(2026, 9, 1, tzinfo=UTC)),
            action(2, status="open", rag="red"),
            action(3, status="in_progress", rag="amber"),
            action(4, status="open", rag="green"),
        ],
        scope_starts=SCOPE,
        earlier=PREVIOUS,
        theme_names=NAMES,
    )
    assert status_counts(printed) == {"open": 2, "in_progress": 1, "done": 1}
    assert actions_summary(printed) == "2 open, 1 in progress, 1 done (1 overdue)"
