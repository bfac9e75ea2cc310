"""Reading and checking a case register file, before anything touches the database.

A register file (CSV or XLSX) lists cases by **pseudonymous reference** within
an area, with the category, age band, flags, involved agencies (and the
practitioners who worked on the case, for conflicts of interest) and key
dates. Columns and formats are described in ``docs/register.md``.

1. Read the file into rows of cells (:func:`.register_table.read_table`): CSV (UTF-8 with or
   without a BOM, comma, semicolon or tab, sniffed from the header line) or
   the first sheet of an XLSX workbook. Blank rows are skipped; row numbers
   stay as a spreadsheet shows them (the header is row 1).
2. Check the header (:func:`parse_register`): known columns in any case or
   spacing, every required column present, no unknown column, and no column
   that would identify a child.
3. Check every row, collecting every problem: identifying values (NHS
   numbers, postcodes, email addresses, dates in free text) are refused
   without repeating them; ids are checked against the configuration; dates
   are real, not in the future, and in order; each agency works in the
   case's area; no (area, reference) appears twice.
4. If anything is wrong, raise :class:`ImportRejected` listing every problem.

Identifying values are never logged, printed or put in a message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from audit_core.adapters.register_table import SHOWABLE, Cell, Table, cell_text, read_table, reject
from audit_core.domain.errors import ImportRejected, Problem
from audit_core.domain.policy import BoardConfig
from audit_core.domain.privacy import (
    NOT_REPEATED,
    compact,
    identifying_header,
    identifying_value,
)
from audit_core.domain.register import ParsedRegister, RegisterRow
from audit_core.domain.workdays import local_date

CASE_REF = re.compile(r"^[A-Za-z0-9/_-]{1,64}$")
PRACTITIONER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")

IDENTIFYING_COLUMN = (
    "the register holds pseudonymous case references only, and the child's identity "
    "stays in the agency's own case system: remove this column and export again"
)


# --- columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("case_ref", True, aliases=("case_reference", "reference", "case_id", "case_number")),
    Column("area", True, aliases=("local_area",)),
    Column("category", True, aliases=("case_category", "level_of_need")),
    Column("age_band", True, aliases=("age_group",)),
    Column("flags", False, aliases=("case_flags",)),
    Column("agencies", True, aliases=("involved_agencies", "agencies_involved")),
    Column("opened_on", False, ("opened", "date_opened", "open_date")),
    Column("last_activity_on", True, ("last_activity", "last_activity_date")),
    Column("closed_on", False, ("closed", "date_closed", "close_date")),
    Column("last_audited_on", False, ("last_audited", "last_audit_date")),
)


COLUMN_BY_COMPACT = {compact(name): c for c in COLUMNS for name in (c.key, *c.aliases)}


# --- parsing -------------------------------------------------------------------------


def read_register(path: Path | str, config: BoardConfig, *, now: dt.datetime) -> ParsedRegister:
    """Read and check a register file; raise ImportRejected listing every problem."""
    path = Path(path)
    name = path.name or str(path)
    if path.is_dir():
        raise reject(name, "this is a folder, not a register file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise reject(name, "the file does not exist") from None
    except PermissionError:
        raise reject(name, "the file could not be read (permission denied)") from None
    except OSError as exc:
        raise reject(
            name, f"the file could not be read ({exc.strerror or 'input error'})"
        ) from None
    today = local_date(now, config.board.timezone)  # the board's date: no future dates
    return ParsedRegister(
        file=name,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=parse_register(read_table(data, name), config, today=today),
    )


class _Lookup:
    """Config ids matched by id or name, ignoring case, spaces and punctuation."""

    def __init__(self, kind: str, items: Sequence[Any]) -> None:
        self.kind = kind
        self.ids = tuple(item.id for item in items)
        self.by_key: dict[str, str] = {}
        self.seen: dict[str, str | None] = {}  # the same few values recur on every row
        for item in items:
            self.by_key.setdefault(compact(item.name), item.id)
        for item in items:
            self.by_key[compact(item.id)] = item.id

    def get(self, text: str) -> str | None:
        if text not in self.seen:
            self.seen[text] = self.by_key.get(compact(text)) if compact(text) else None
        return self.seen[text]

    def unknown(self, text: str) -> str:
        """Why ``text`` is refused; it is quoted only if short, id-like and not a date."""
        showable = SHOWABLE.match(text) and identifying_value(text, free_text=True) is None
        shown = f" '{text}'" if showable else ""
        return f"unknown {self.kind}{shown} (expected one of: {', '.join(self.ids)})"


@dataclass
class _Context:
    file: str
    today: dt.date
    areas: _Lookup
    categories: _Lookup
    age_bands: _Lookup
    flags: _Lookup
    agencies: _Lookup
    agency_areas: Mapping[str, frozenset[str]]
    problems: list[Problem] = field(default_factory=list)
    practitioners: dict[str, str | None] = field(default_factory=dict)  # id -> what is wrong

    def problem(self, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(self.file, f"row {row}, column {column}", reason))


def parse_register(table: Table, config: BoardConfig, *, today: dt.date) -> list[RegisterRow]:
    """Check the header and every row of ``table``; raise ImportRejected with every problem."""
    ctx = _Context(
        file=table.file,
        today=today,
        areas=_Lookup("area", config.board.areas),
        categories=_Lookup("category", config.categories),
        age_bands=_Lookup("age band", config.age_bands),
        flags=_Lookup("flag", config.flags),
        agencies=_Lookup("agency", config.agencies),
        agency_areas={a.id: frozenset(a.areas) for a in config.agencies},
    )
    header_row, header_cells = table.rows[0]
    columns, unnamed = _check_header(ctx, header_row, [cell_text(c) for c in header_cells])
    rows: list[RegisterRow] = []
    seen: dict[tuple[str, str], int] = {}
    unnamed_reported: set[int] = set()
    for number, cells in table.rows[1:]:
        for index in range(len(cells)):
            outside = index in unnamed or index >= len(header_cells)
            if outside and index not in unnamed_reported and cell_text(cells[index]):
                unnamed_reported.add(index)  # once per column is enough
                ctx.problem(
                    number,
                    get_column_letter(index + 1),
                    "this cell is in a column without a heading: name the column or clear it",
                )
        values = {
            key: (header, cells[i] if i < len(cells) else None)
            for key, (header, i) in columns.items()
        }
        parsed = _parse_row(ctx, number, values)
        if parsed is None:
            continue
        key = (parsed.area_id, parsed.reference)
        if key in seen:
            ctx.problem(
                number,
                columns["case_ref"][0],
                f"case '{parsed.reference}' of area {parsed.area_id} is already on row {seen[key]}",
            )
            continue
        seen[key] = number
        rows.append(parsed)
    if ctx.problems:
        raise ImportRejected(ctx.problems)
    return rows


def _check_header(
    ctx: _Context, row: int, headers: list[str]
) -> tuple[dict[str, tuple[str, int]], set[int]]:
    """Map column keys to (header as written, position); report bad headers."""
    columns: dict[str, tuple[str, int]] = {}
    unnamed: set[int] = set()
    for index, header in enumerate(headers):
        letter = get_column_letter(index + 1)
        column = COLUMN_BY_COMPACT.get(compact(header))
        if not header:
            unnamed.add(index)
        elif column is not None:
            if column.key in columns:
                ctx.problem(
                    row,
                    header,
                    f"the column {column.key} appears twice (also as '{columns[column.key][0]}')",
                )
            else:
                columns[column.key] = (header, index)
        elif (what := identifying_value(header, free_text=True)) is not None:
            # not a heading at all: perhaps the file has no header row
            ctx.problem(row, letter, f"this heading looks like {what}, {NOT_REPEATED}")
        elif (what := identifying_header(header)) is not None:
            ctx.problem(
                row, header, f"a column of {what} would identify a child; {IDENTIFYING_COLUMN}"
            )
        else:
            known = ", ".join(c.key for c in COLUMNS)
            ctx.problem(
                row, header, f"unknown column (check the spelling; the columns are: {known})"
            )
    for column in COLUMNS:
        if column.required and column.key not in columns:
            ctx.problems.append(
                Problem(ctx.file, f"row {row}", f"the required column {column.key} is missing")
            )
    return columns, unnamed


class _Row:
    """One data row being checked: its cells by column key, and where to report problems.

    A value that matches the configuration's vocabulary (an area, a category...)
    or parses as a date cannot identify anyone; anything else, and all free text
    (references, practitioner ids), is checked for identifying values before a
    message could quote it.
    """

    def __init__(self, ctx: _Context, row: int, values: Mapping[str, tuple[str, Cell]]) -> None:
        self.ctx, self.row, self.values = ctx, row, values
        self.refused: set[str] = set()  # columns already reported as identifying

    def column(self, key: str) -> str:
        return self.values[key][0] if key in self.values else key

    def cell(self, key: str) -> Cell:
        return self.values[key][1] if key in self.values else None

    def problem(self, key: str, reason: str) -> None:
        self.ctx.problem(self.row, self.column(key), reason)

    def identifying(self, key: str, text: str, *, free_text: bool = False) -> bool:
        """Whether ``text`` could identify a child; if so, report it (without the value)."""
        what = identifying_value(text, free_text=free_text)
        if what is not None:
            self.refuse(key, what)
        return what is not None

    def refuse(self, key: str, what: str) -> None:
        if key not in self.refused:  # once per cell
            self.refused.add(key)
            self.problem(key, f"this value looks like {what}, {NOT_REPEATED}")

    def required(self, key: str, noun: str) -> str | None:
        """The cell's text, or None (reported) if it is empty; None if the column is missing."""
        if key not in self.values:
            return None
        text = cell_text(self.cell(key))
        if not text:
            self.problem(key, f"the {noun} is empty; every case needs one")
            return None
        return text

    def one_of(self, key: str, noun: str, lookup: _Lookup) -> str | None:
        text = self.required(key, noun)
        if text is None:
            return None
        found = lookup.get(text)
        if found is None and isinstance(self.cell(key), dt.date):
            self.problem(
                key,
                f"Excel has turned this {lookup.kind} into a date: format the column as Text "
                "and type it again",
            )
        elif found is None and not self.identifying(key, text):
            self.problem(key, lookup.unknown(text))
        return found

    def date(self, key: str) -> dt.date | None:
        cell = self.cell(key)
        text = cell_text(cell)
        if not text:
            return None
        value = parse_date(cell)
        if isinstance(value, str):
            if not self.identifying(key, text):
                self.problem(key, value)
            return None
        if value > self.ctx.today:
            self.problem(key, f"the date is in the future (today is {self.ctx.today:%d/%m/%Y})")
            return None
        return value


def _parse_row(
    ctx: _Context, row: int, values: Mapping[str, tuple[str, Cell]]
) -> RegisterRow | None:
    """Check one row; return the case, or None after reporting its problems."""
    before = len(ctx.problems)
    r = _Row(ctx, row, values)
    reference = r.required("case_ref", "case reference")
    if reference is not None:
        if isinstance(r.cell("case_ref"), dt.date | dt.time):  # an Excel date cell
            r.refuse("case_ref", "a date of birth")
            reference = None
        elif r.identifying("case_ref", reference, free_text=True):
            reference = None
        elif not CASE_REF.match(reference):
            r.problem(
                "case_ref",
                "a case reference is 1 to 64 letters, digits, '-', '_' or '/' (this one is "
                "not; it is not repeated here)",
            )
            reference = None
    area = r.one_of("area", "area", ctx.areas)
    category = r.one_of("category", "category", ctx.categories)
    age_band = r.one_of("age_band", "age band", ctx.age_bands)
    flags = _flags(r, cell_text(r.cell("flags")))
    involvements = None
    if (agencies := r.required("agencies", "list of agencies")) is not None:
        involvements = _involvements(r, agencies, area)
    last_activity = None
    if r.required("last_activity_on", "last activity date") is not None:
        last_activity = r.date("last_activity_on")
    opened, closed, audited = (r.date(k) for k in ("opened_on", "closed_on", "last_audited_on"))
    if opened and last_activity and last_activity < opened:
        r.problem("last_activity_on", "the last activity is before the case opened")
    if opened and closed and closed < opened:
        r.problem("closed_on", "the case closes before it opened")
    if len(ctx.problems) > before:
        return None
    if not (reference and area and category and age_band and involvements and last_activity):
        return None  # a required column is missing: reported once, on the header row
    return RegisterRow(
        row=row,
        reference=reference,
        area_id=area,
        category=category,
        age_band=age_band,
        flags=flags,
        involvements=involvements,
        opened_on=opened,
        last_activity_on=last_activity,
        closed_on=closed,
        last_audited_on=audited,
    )


def _flags(r: _Row, text: str) -> tuple[str, ...]:
    flags: set[str] = set()
    for entry in (e.strip() for e in text.split("|")):
        if not entry:
            continue
        found = r.ctx.flags.get(entry)
        if found is not None:
            flags.add(found)
        elif not r.identifying("flags", entry):
            r.problem("flags", r.ctx.flags.unknown(entry))
    return tuple(sorted(flags))


def _involvements(
    r: _Row, text: str, area: str | None
) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """Parse ``agency[:practitioner+practitioner]|...``; a repeated agency's people merge."""
    ctx = r.ctx
    found: dict[str, set[str]] = {}
    named = False
    for entry in (e.strip() for e in text.split("|")):
        if not entry:
            continue
        named = True
        name, _, people = entry.partition(":")
        agency = ctx.agencies.get(name.strip())
        if agency is None:
            if not r.identifying("agencies", name, free_text=True):
                r.problem("agencies", ctx.agencies.unknown(name.strip()))
            continue
        if area is not None and area not in ctx.agency_areas[agency]:
            r.problem("agencies", f"agency {agency} does not work in area {area}")
        practitioners = found.setdefault(agency, set())
        for person in (p.strip() for p in people.split("+")):
            if not person:
                continue
            if person not in ctx.practitioners:  # ids recur: check each one once per file
                what = identifying_value(person, free_text=True)
                ctx.practitioners[person] = what or (
                    None if PRACTITIONER_ID.match(person) else "not an id"
                )
            verdict = ctx.practitioners[person]
            if verdict is None:
                practitioners.add(person)
            elif verdict != "not an id":
                r.refuse("agencies", verdict)
            else:
                r.problem(
                    "agencies",
                    f"a practitioner id of agency {agency} is not an id (letters, digits, "
                    "'-', '_', '.' or '/'; it is not repeated here)",
                )
    if not named:
        r.problem("agencies", "no agency is named; list the agencies involved")
    if not found:
        return None
    return tuple((agency, tuple(sorted(found[agency]))) for agency in sorted(found))


DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(cell: Cell) -> dt.date | str:
    """A date from a cell (dd/mm/yyyy, yyyy-mm-dd or an Excel date), or why it is not one."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return "this is a number, not a date: write dates as dd/mm/yyyy or yyyy-mm-dd"
    text = cell_text(cell)
    if match := YMD.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            return "write the year in full (dd/mm/yyyy or yyyy-mm-dd)"
    else:
        return "this is not a date: write dates as dd/mm/yyyy or yyyy-mm-dd"
    try:
        return dt.date(year, month, day)
    except ValueError:
        return "this date does not exist on the calendar (dates are dd/mm/yyyy or yyyy-mm-dd)"
