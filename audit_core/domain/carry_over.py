"""Carry-over: which earlier actions an area's next briefing reports on, and how it prints them.

The actions that came from the lessons of an area's earlier rounds stay with the board
until they are done or dropped; each briefing of the area tells the practitioners where
they stand ("Progress on earlier actions"). :func:`carried_over` picks them:

1. an action of the area whose round was launched before the first round the briefing
   covers (an action of a round in scope is too new to report on);
2. still open (open or in progress) now: it is reported until it is closed;
3. or closed (done, dropped) since the area's latest issued briefing that could report on
   it (one whose rounds were all launched after the action's round), which reported it
   open: the board sees what changed. One closed before that briefing was reported there,
   as closed, and is left out. With no such briefing issued yet (an action made and closed
   before its own round's briefing, say), a closed one is reported: each action closed is
   reported once.

:func:`action_progress` turns each into the briefing's
:class:`~audit_core.domain.briefing.ActionProgress`: the theme as printed, the owner named
by agency only (never the person), the due date as printed, status and RAG (a dropped
action has none), and the latest update's note in one line. Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from audit_core.domain.briefing import ActionProgress
from audit_core.domain.briefing_scope import MONTHS
from audit_core.domain.models import ActionStatus
from audit_core.domain.privacy import identifying_value

PROGRESS_LIMIT = 200  # characters of the latest update's note the briefing prints
CLOSED = (ActionStatus.DONE, ActionStatus.DROPPED)


@dataclass(frozen=True)
class ActionRecord:
    """An action of the area as the action plan holds it: the facts the carry-over needs."""

    action_id: int
    round_id: str
    round_launched_at: dt.datetime
    theme_id: str
    text: str
    agency_name: str  # the owner's agency ("" when none is recorded)
    due_on: dt.date
    status: str  # ActionStatus
    rag: str  # red | amber | green
    closed_at: dt.datetime | None = None
    latest_note: str = ""  # the latest update's note ("" when none)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


@dataclass(frozen=True)
class EarlierBriefing:
    """An issued briefing of the area: when it was issued, and when the first of its rounds
    was launched."""

    issued_at: dt.datetime
    scope_starts: dt.datetime


def last_report(action: ActionRecord, earlier: Iterable[EarlierBriefing]) -> dt.datetime | None:
    """When the latest issued briefing that could report on the action was issued (one whose
    rounds were all launched after the action's round); None when none was."""
    return max(
        (b.issued_at for b in earlier if b.scope_starts > action.round_launched_at),
        default=None,
    )


def reported(
    action: ActionRecord, *, scope_starts: dt.datetime, earlier: Sequence[EarlierBriefing]
) -> bool:
    """Whether the briefing reports on this action (the rule's steps 1 to 3).

    ``scope_starts``: when the first round the briefing covers was launched; ``earlier``:
    the area's briefings issued before, of other scopes."""
    if action.round_launched_at >= scope_starts:
        return False
    if not action.closed:
        return True
    last = last_report(action, earlier)
    if last is None:
        return True
    return action.closed_at is not None and action.closed_at > last


def carried_over(
    actions: Iterable[ActionRecord],
    *,
    scope_starts: dt.datetime,
    earlier: Sequence[EarlierBriefing],
    theme_names: Mapping[str, str],
) -> tuple[ActionProgress, ...]:
    """The actions the briefing reports on, as it prints them: by round (the first launched
    first), then by theme and due date."""
    chosen = [a for a in actions if reported(a, scope_starts=scope_starts, earlier=earlier)]
    chosen.sort(
        key=lambda a: (
            a.round_launched_at,
            a.round_id,
            theme_names.get(a.theme_id, a.theme_id).casefold(),
            a.due_on,
            a.action_id,
        )
    )
    return tuple(action_progress(a, theme_names) for a in chosen)


def action_progress(action: ActionRecord, theme_names: Mapping[str, str]) -> ActionProgress:
    return ActionProgress(
        round_id=action.round_id,
        theme_id=action.theme_id,
        heading=theme_names.get(action.theme_id, action.theme_id) or "No theme",
        text=" ".join(action.text.split()),
        agency=action.agency_name,
        due_on=printed_date(action.due_on),
        status=action.status,
        rag="" if action.status == ActionStatus.DROPPED else action.rag,
        progress=progress_line(action.latest_note),
    )


def progress_line(note: str, most: int = PROGRESS_LIMIT) -> str:
    """The note in one line, shortened to ``most`` characters at a word; a note that looks
    like it holds an NHS number, a postcode or an email address is left out (a briefing
    names no child: the business unit words it in the edit)."""
    line = " ".join(note.split())
    if identifying_value(line, dates=False) is not None:
        return ""
    if len(line) <= most:
        return line
    cut = line[: most - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def printed_date(day: dt.date) -> str:
    """'14 November 2026'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def status_counts(actions: Sequence[ActionProgress]) -> dict[str, int]:
    """How many of the actions are in each status, the statuses in their life's order
    (only those with one)."""
    counts = {s.value: 0 for s in ActionStatus}
    for action in actions:
        counts[action.status] = counts.get(action.status, 0) + 1
    return {status: n for status, n in counts.items() if n}
