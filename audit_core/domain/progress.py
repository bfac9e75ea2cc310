"""How far one audit has got, in one word, for the business unit's dashboard.

Each assignment shows exactly one state. Several can be true at once (a return can
be in draft and late, a late return can have been escalated), so they are tried in
this order and the first that holds is shown:

1. ``submitted``: the return is in. Nothing else matters any more.
2. ``declined``: the auditor declined; the audit waits for another auditor.
3. ``unfilled`` / ``assigned``: no task is out yet (no auditor could take it, or the
   round has not been launched).
4. ``failed``: the mail server refused the task email for good. The auditor has no
   link, so chasing them is pointless: the business unit must act first.
5. ``escalated``: a step of the chase went to the agency lead or the business unit
   manager, for the current task and deadline.
6. ``overdue``: today (in the board's zone) is past the deadline.
7. ``draft``: the auditor has saved a draft of the return.
8. ``opened``: the auditor has opened the link.
9. ``sent`` / ``queued``: the task email was accepted by the mail server, or is still
   waiting in the outbox.

A return the business unit reopened after the deadline (to be corrected during
moderation) is not counted late: its deadline had passed before it was reopened on
purpose, so it shows ``draft``.

The module also makes a spreadsheet cell safe to open (:func:`spreadsheet_text`). Which
step of the chase comes next for an audit, and when, is
:func:`audit_core.domain.chasing.next_step`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from audit_core.domain.models import AssignmentStatus

# Every state an audit can show, in the order a round moves through them.
STATES = (
    "unfilled",
    "assigned",
    "queued",
    "sent",
    "opened",
    "draft",
    "submitted",
    "overdue",
    "escalated",
    "declined",
    "failed",
)

_S = AssignmentStatus


@dataclass(frozen=True)
class AuditFacts:
    """What is known of one assignment, as plain values."""

    status: str  # the assignment's own status
    delivery: str | None  # the outbox status of its current task email, if queued
    due_on: dt.date
    opened: bool = False  # its auditor opened the current link
    draft: bool = False  # a return is saved in draft
    escalated: bool = False  # an escalation step was taken for this task and deadline
    reopened: bool = False  # the business unit reopened a submitted return


def shown_state(facts: AuditFacts, today: dt.date) -> str:
    """The one state the audit shows today (the order is the module's list)."""
    if facts.status in (_S.SUBMITTED, _S.DECLINED, _S.UNFILLED, _S.ASSIGNED):
        return str(facts.status)
    if facts.delivery == "failed":
        return "failed"
    late = today > facts.due_on and not facts.reopened
    if late and facts.escalated:
        return "escalated"
    if late:
        return "overdue"
    if facts.draft:
        return "draft"
    if facts.opened:
        return "opened"
    return "sent" if facts.delivery == "sent" else "queued"


# Characters a spreadsheet reads as the start of a formula (or of a hidden one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: object) -> str:
    """A cell's text that a spreadsheet shows as typed and never runs: text starting like
    a formula gets a leading apostrophe (the usual defence against formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
