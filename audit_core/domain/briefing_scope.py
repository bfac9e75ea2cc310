"""What a briefing covers: one area over some rounds, or over a board year of rounds.

A briefing's **scope** is written as a short key, which names its versions and its files:

- one round: ``2026-H1``;
- several rounds: their ids sorted and joined by ``+`` (``2026-H1+2026-H2``);
- a board year: ``2026-27``, the rounds launched from the first day of the month the
  board's year starts (``board.briefing.year_starts_month``, April by default) in 2026
  to the day before it in 2027. Which rounds those are is read from the database when
  the briefing is drafted (:mod:`audit_core.services.briefings`).

The issued files are named ``briefing-<area>-<scope>`` (:func:`out_stem`), with
``-seven-minute`` added for the one-page layout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audit_core.domain.errors import AuditRoundError
from audit_core.domain.periods import describe_period, parse_round_id, period_bounds, period_of

YEAR = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2}|\d{4})$")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class ScopeError(AuditRoundError):
    """A briefing's scope was given in a form that names no rounds."""


@dataclass(frozen=True)
class Scope:
    """The rounds a briefing covers, as asked: some rounds, or a board year (whose rounds
    are found later). ``key`` is the scope as stored and printed."""

    key: str
    round_ids: tuple[str, ...] = ()  # sorted; empty for a year until its rounds are found
    year: str | None = None  # "2026-27"

    @property
    def is_year(self) -> bool:
        return self.year is not None


def parse_year(text: str) -> str:
    """A board year as typed ('2026-27', '2026/27', '2026-2027') -> '2026-27'."""
    match = YEAR.match(text.strip())
    if match:
        first, second = int(match.group(1)), match.group(2)
        if int(second) == (first + 1) % (100 if len(second) == 2 else 10_000):
            return f"{first}-{(first + 1) % 100:02d}"
    raise ScopeError(
        f"'{text}' is not a board year: use the form 2026-27 (the year starting in 2026)."
    )


def rounds_scope(round_ids: Sequence[str]) -> Scope:
    """The scope of these rounds (each as typed: '2026-h1'), sorted, without repeats."""
    ids = tuple(sorted({parse_round_id(r) for r in round_ids}))
    if not ids:
        raise ScopeError("A briefing covers at least one round.")
    return Scope("+".join(ids), ids)


def year_scope(year: str) -> Scope:
    label = parse_year(year)
    return Scope(label, (), label)


def parse_scope(rounds: Sequence[str] = (), year: str | None = None) -> Scope:
    """The scope asked for: some rounds, or a board year; never both, never neither."""
    if rounds and year:
        raise ScopeError(
            "A briefing covers either some rounds or a board year, not both: give the rounds, "
            "or the year."
        )
    if year:
        return year_scope(year)
    if not rounds:
        raise ScopeError(
            "Say what the briefing covers: one or more rounds (2026-H1), or a board year (2026-27)."
        )
    return rounds_scope(rounds)


def scope_from_key(key: str) -> Scope:
    """A stored or typed scope key ('2026-27', '2026-H1+2026-H2') as a scope."""
    text = key.strip()
    if YEAR.match(text):
        return year_scope(text)
    return rounds_scope([part for part in text.split("+") if part.strip()])


def year_bounds(year: str, starts_month: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a board year: '2026-27' with April -> 1 April 2026 and
    31 March 2027 (with January: the calendar year 2026)."""
    first_year = int(parse_year(year)[:4])
    start = dt.date(first_year, starts_month, 1)
    return start, dt.date(first_year + 1, starts_month, 1) - dt.timedelta(days=1)


def describe_year(year: str, starts_month: int) -> str:
    """'2026-27' -> '1 April 2026 to 31 March 2027'."""
    first, last = year_bounds(year, starts_month)
    return f"{_day(first)} to {_day(last)}"


def period_label(scope: Scope, round_ids: Sequence[str]) -> str:
    """The period a briefing prints: the year ('2026-27'), one round's period ('January to
    June 2026'), or the span of several ('January to December 2026')."""
    if scope.year is not None:
        return scope.year
    periods = sorted({period_of(r) for r in round_ids})
    if len(periods) == 1:
        return describe_period(periods[0])
    start, end = period_bounds(periods[0])[0], period_bounds(periods[-1])[1]
    if start.year == end.year:
        return f"{MONTHS[start.month - 1]} to {MONTHS[end.month - 1]} {end.year}"
    return f"{MONTHS[start.month - 1]} {start.year} to {MONTHS[end.month - 1]} {end.year}"


def out_stem(area_id: str, scope_key: str) -> str:
    """The name the issued files share: ``briefing-hackney-2026-H1``."""
    return f"briefing-{area_id}-{scope_key}"


def out_name(area_id: str, scope_key: str, layout: str, suffix: str) -> str:
    """One issued file's name: ``briefing-hackney-2026-H1.pdf``, or with the layout
    after it for the one-page one (``briefing-hackney-2026-H1-seven-minute.html``)."""
    stem = out_stem(area_id, scope_key)
    return f"{stem}{'' if layout == 'briefing' else '-' + layout}.{suffix}"


def _day(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
