"""A register file once read and checked: the cases it holds, as plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RegisterRow:
    """One valid case of the file."""

    row: int
    reference: str
    area_id: str
    category: str
    age_band: str
    flags: tuple[str, ...]  # sorted
    involvements: tuple[tuple[str, tuple[str, ...]], ...]  # (agency, sorted practitioners)
    opened_on: dt.date | None
    last_activity_on: dt.date
    closed_on: dt.date | None
    last_audited_on: dt.date | None


@dataclass(frozen=True)
class ParsedRegister:
    file: str
    sha256: str
    rows: list[RegisterRow]
