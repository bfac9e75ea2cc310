"""A round's period: its id, a year and a half (``2026-H1``, ``2026-H2``).

``2026-H1`` is January to June 2026 and ``2026-H2`` July to December. A round
launches within its period (:func:`check_in_period`). A cancelled round whose
period is planned again is moved aside under ``<period>-cancelled-<n>``
(:func:`aside_id`); :func:`parse_round_id` accepts both forms wherever a round
is looked up, and :func:`parse_period` only the first, for a round to plan.
"""

from __future__ import annotations

import datetime as dt
import re

from audit_core.domain.errors import PlanningError

PERIOD = re.compile(r"^(\d{4})-[Hh]([12])$")
ROUND_ID = re.compile(r"^(\d{4})-[Hh]([12])(?:-cancelled-(\d+))?$", re.IGNORECASE)
HALVES = {1: "January to June", 2: "July to December"}


def parse_period(text: str) -> str:
    """'2026-h1' -> '2026-H1'; anything else is refused with the expected form."""
    match = PERIOD.match(text.strip())
    if not match:
        raise PlanningError(f"'{text}' is not a period: use the form 2026-H1 or 2026-H2.")
    return f"{match.group(1)}-H{match.group(2)}"


def parse_round_id(text: str) -> str:
    """A round's id as typed: a period ('2026-h1' -> '2026-H1') or a cancelled round moved
    aside ('2026-H1-cancelled-1')."""
    match = ROUND_ID.match(text.strip())
    if not match:
        raise PlanningError(
            f"'{text}' is not a round: use its period (2026-H1 or 2026-H2), or the name of "
            "a cancelled round (2026-H1-cancelled-1)."
        )
    period = f"{match.group(1)}-H{match.group(2)}"
    return period if match.group(3) is None else f"{period}-cancelled-{int(match.group(3))}"


def period_of(round_id: str) -> str:
    """The period a round id belongs to ('2026-H1-cancelled-2' -> '2026-H1')."""
    return parse_period(round_id[:7])


def aside_id(period: str, number: int) -> str:
    """The id a cancelled round of ``period`` is moved to when the period is planned again."""
    return f"{period}-cancelled-{number}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period: 2026-H1 -> 1 January and 30 June 2026."""
    year, half = int(period[:4]), int(period[-1])
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    return dt.date(year, 7, 1), dt.date(year, 12, 31)


def describe_period(period: str) -> str:
    """'2026-H1' -> 'January to June 2026'."""
    return f"{HALVES[int(period[-1])]} {period[:4]}"


def period_containing(day: dt.date) -> str:
    """The period a day falls in: 2 March 2026 -> '2026-H1'."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def check_in_period(period: str, day: dt.date, *, what: str = "launch") -> None:
    """Refuse a launch date outside the round's period, saying which period it falls in."""
    first, last = period_bounds(period)
    if not first <= day <= last:
        raise PlanningError(
            f"Round {period} covers {describe_period(period)}, so it cannot {what} on "
            f"{day:%d/%m/%Y}, which is in {period_containing(day)}: a round launches within "
            "its period."
        )
