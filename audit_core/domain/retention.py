"""Retention: when a round's returns are purged, and what a purge keeps of them.

A round that has ended keeps its returns for ``board.retention.returns_months``, counted
in whole months of the board's calendar from the day it ended: the day it was closed
(every area's briefing issued) or cancelled. A round closed on 10 June 2026 with 24
months is purged from 10 June 2028; one closed on 31 August with 6 months, from the last
day of February (a month too short for the day falls back to its last day).

A purge keeps the figures and takes the words (:func:`strip_return`): of each return,
every section's grade and the theme of each strength and lesson stay, which is all that
collation and the year's report count; the good practice, the areas for development,
the recommendations, the strengths' key phrases and texts, the lessons' texts and the
description of an immediate concern go (whether a concern was raised stays).

An email is about the rounds it names (:func:`message_rounds`): its own round, its
assignment's round, the rounds of the chase steps it was sent for; an email that names
none (the business unit's daily digest, a bounced-address notice) is about the rounds
that were launched and not yet ended when it was queued. Its bytes go once every round
it is about is due (:func:`bytes_may_go`).

Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

# --- when -------------------------------------------------------------------------------


def purge_from(ended_on: dt.date, months: int) -> dt.date:
    """The first day a round that ended on ``ended_on`` is due for its purge."""
    return ended_on + relativedelta(months=months)


def is_due(ended_on: dt.date | None, months: int, today: dt.date) -> bool:
    """Whether a round's retention is over today (a round not ended never is)."""
    return ended_on is not None and today >= purge_from(ended_on, months)


@dataclass(frozen=True)
class RoundSpan:
    """When a round was in the field: from its launch (None: never launched) to its end
    (None: not ended), as instants."""

    round_id: str
    launched_at: dt.datetime | None
    ended_at: dt.datetime | None

    def in_field_at(self, at: dt.datetime) -> bool:
        if self.launched_at is None or at < self.launched_at:
            return False
        return self.ended_at is None or at <= self.ended_at


def message_rounds(
    named: Iterable[str | None], queued_at: dt.datetime, spans: Sequence[RoundSpan]
) -> frozenset[str]:
    """The rounds an email is about: those it names, else those in the field when it was
    queued."""
    found = frozenset(r for r in named if r)
    if found:
        return found
    return frozenset(s.round_id for s in spans if s.in_field_at(queued_at))


def bytes_may_go(rounds: frozenset[str], due: frozenset[str] | set[str]) -> bool:
    """An email's bytes may go once every round it is about is due (and it is about one)."""
    return bool(rounds) and rounds <= due


# --- what ---------------------------------------------------------------------------------

SECTION_TEXTS = ("good_practice", "development", "recommendations")
ENTRY_TEXTS = ("key_phrase", "text")


@dataclass(frozen=True)
class Stripped:
    """A return's stored answers with the words taken out, and how many texts went."""

    answers: dict[str, Any]
    strengths: list[Any]
    lessons: list[Any]
    texts: int  # free-text answers emptied (a concern's description not counted)


def strip_return(
    answers: Mapping[str, Any], strengths: Sequence[Any], lessons: Sequence[Any]
) -> Stripped:
    """The grades of each section and the theme of each strength and lesson, nothing else."""
    texts = 0
    kept_answers: dict[str, Any] = {}
    for section_id, answer in (answers or {}).items():
        texts += sum(1 for key in SECTION_TEXTS if (answer or {}).get(key))
        if (answer or {}).get("grade"):
            kept_answers[section_id] = {"grade": answer["grade"]}
    kept: list[list[Any]] = []
    for entries in (strengths or [], lessons or []):
        texts += sum(1 for e in entries for key in ENTRY_TEXTS if (e or {}).get(key))
        kept.append([{"theme": e["theme"]} for e in entries if (e or {}).get("theme")])
    return Stripped(kept_answers, kept[0], kept[1], texts)


# --- what a run did (or, in a dry run, would do) --------------------------------------------


@dataclass
class RoundPurge:
    """One round's purge: what went, in counts (never the content)."""

    round_id: str
    status: str  # closed | cancelled
    ended_on: dt.date
    due_from: dt.date
    returns: int = 0  # returns whose free text went (this time)
    texts: int = 0  # free-text answers emptied
    concerns: int = 0  # descriptions of immediate concerns
    declines: int = 0  # reasons given for declining a task
    findings: int = 0  # findings kept back from the briefing whose wording went
    case_notes: int = 0  # the audit day's key findings about a case
    messages: int = 0  # emails whose bytes went
    returns_purged_before: bool = False  # an earlier run purged the returns already

    @property
    def anything(self) -> bool:
        return any(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {
            "returns": self.returns,
            "texts": self.texts,
            "concerns": self.concerns,
            "declines": self.declines,
            "findings": self.findings,
            "case_notes": self.case_notes,
            "messages": self.messages,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "status": self.status,
            "ended_on": self.ended_on.isoformat(),
            "due_from": self.due_from.isoformat(),
            "returns_purged_before": self.returns_purged_before,
            **self.counts(),
        }


@dataclass(frozen=True)
class Waiting:
    """An ended round whose retention is not over yet."""

    round_id: str
    ended_on: dt.date
    due_from: dt.date

    def to_json(self) -> dict[str, str]:
        return {
            "round": self.round_id,
            "ended_on": self.ended_on.isoformat(),
            "due_from": self.due_from.isoformat(),
        }


@dataclass(frozen=True)
class PurgeReport:
    """A run of the purge: the rounds with something purged (or to purge, in a dry run),
    and the ended rounds still within their retention."""

    today: dt.date
    months: int
    dry_run: bool
    purged: tuple[RoundPurge, ...]
    waiting: tuple[Waiting, ...]

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(RoundPurge("", "", self.today, self.today).counts(), 0)
        for r in self.purged:
            for key, value in r.counts().items():
                totals[key] += value
        return totals

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "retention_months": self.months,
            "dry_run": self.dry_run,
            "totals": self.totals(),
            "rounds": [r.to_json() for r in self.purged],
            "waiting": [w.to_json() for w in self.waiting],
        }
