"""Well established findings: a lesson's theme that comes back in consecutive rounds of an area.

The board's briefings say so of a lesson ("This well established finding will be further
communicated"): the same theme was a lesson of the area's previous round too. The rule:

1. an area's rounds are those launched that include it and were not cancelled, in the
   order they were launched (:func:`area_history`);
2. a round's lesson themes in an area are the themes of its lessons that went forward
   from the area's cases (collation, before the audit day, offers the themes of the
   returns' lessons instead, so the audit day knows ahead);
3. a theme of a round recurs when it is also a lesson theme of the area's previous round
   (:func:`recurring_from`); only consecutive rounds count, so a theme missing from one
   round starts again.

Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AreaRound:
    """One round of an area, with the themes of its lessons there."""

    round_id: str
    launched_at: dt.datetime | None  # None: never launched
    lesson_themes: frozenset[str] = frozenset()
    cancelled: bool = False


@dataclass(frozen=True)
class Recurring:
    """The lesson themes of a round that recur in an area from its previous round."""

    area_id: str
    area_name: str
    previous_round_id: str
    themes: tuple[tuple[str, str], ...]  # (theme id, name), in the taxonomy's order

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area_id,
            "name": self.area_name,
            "previous_round": self.previous_round_id,
            "themes": [{"theme": t, "name": n} for t, n in self.themes],
        }


def area_history(rounds: Iterable[AreaRound]) -> list[AreaRound]:
    """The rounds that count: launched and not cancelled, the first launched first (a tie
    by round id)."""
    counted = [r for r in rounds if r.launched_at is not None and not r.cancelled]
    return sorted(counted, key=lambda r: (r.launched_at, r.round_id))


def previous_round(rounds: Iterable[AreaRound], round_id: str) -> AreaRound | None:
    """The area's round launched just before ``round_id`` (None for its first round, or for
    a round that does not count)."""
    history = area_history(rounds)
    ids = [r.round_id for r in history]
    if round_id not in ids:
        return None
    at = ids.index(round_id)
    return history[at - 1] if at > 0 else None


def recurring_from(previous: Iterable[str], current: Iterable[str]) -> frozenset[str]:
    """The themes of this round that were lesson themes of the previous round too."""
    return frozenset(current) & frozenset(previous)


def recurring_by_round(rounds: Sequence[AreaRound]) -> dict[str, frozenset[str]]:
    """For each round of an area that counts, the themes of its lessons that recur from
    the area's previous round (none for the first)."""
    history = area_history(rounds)
    found: dict[str, frozenset[str]] = {}
    for n, current in enumerate(history):
        before = history[n - 1].lesson_themes if n else frozenset()
        found[current.round_id] = recurring_from(before, current.lesson_themes)
    return found


def named(themes: Iterable[str], names: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The themes with their names, in the taxonomy's order (``names``' order), then any
    the taxonomy no longer has."""
    wanted = set(themes)
    known = [(t, n) for t, n in names.items() if t in wanted]
    return tuple(known) + tuple((t, t) for t in sorted(wanted - set(names)))


def lesson_recurs(
    theme_id: str, area_ids: Iterable[str], previous: Mapping[str, frozenset[str]]
) -> bool:
    """Whether a lesson of this theme, from cases of these areas, recurs: its theme was a
    lesson going forward in the previous round of one of the areas (``previous``: area ->
    those themes)."""
    return any(theme_id in previous.get(area_id, frozenset()) for area_id in area_ids)
