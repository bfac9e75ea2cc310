"""A register file once read and checked: the cases it holds, as plain values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

Involvements = tuple[tuple[str, tuple[str, ...]], ...]  # (agency, sorted practitioners)


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One valid case of the file (slots: a register may hold tens of thousands)."""

    row: int
    reference: str
    area_id: str
    category: str
    age_band: str
    flags: tuple[str, ...]  # sorted
    involvements: Involvements
    opened_on: dt.date | None
    last_activity_on: dt.date
    closed_on: dt.date | None
    last_audited_on: dt.date | None


@dataclass(frozen=True)
class ParsedRegister:
    file: str
    sha256: str
    rows: list[RegisterRow]

    def take(self, size: int) -> Iterator[list[RegisterRow]]:
        """The rows, ``size`` at a time, each batch forgotten once handed over: an import
        frees the rows it has written while the audit events they leave build up."""
        while self.rows:
            batch = self.rows[:size]
            del self.rows[:size]
            yield batch
