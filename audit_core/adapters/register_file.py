"""Reading and checking a case register file, before anything touches the database.

A register file (CSV or XLSX) lists cases by **pseudonymous reference** within
an area, with the category, age band, flags, involved agencies (and the
practitioners who worked on the case, for conflicts of interest) and key
dates. Columns and formats are described in ``docs/register.md``.

1. Refuse a file larger than the size limit (``register.yaml``, ``limits``)
   before reading it; then read it row by row (:func:`.register_table.read_table`):
   CSV (UTF-8 with or without a BOM, comma, semicolon or tab, sniffed from the
   header line) or the first sheet of an XLSX workbook, as far as its last
   register column.
   Blank rows are skipped; row numbers stay as a spreadsheet shows them (the
   header is row 1). More rows than the row limit stop the reading at once.
2. Check the header (:func:`parse_register`): known columns in any case or
   spacing, every required column present, no unknown column, and no column
   that would identify a child.
3. Check every row, collecting every problem: cells too long or holding a
   formula; identifying values (NHS numbers, postcodes, email addresses,
   dates outside the date columns) are refused without repeating them; each
   reference has its area's shape (``case_ref_pattern`` in ``board.yaml``);
   ids are checked against the configuration; dates are real, not in the
   future, and in order; each agency works in the case's area; no (area,
   reference) appears twice.
4. If anything is wrong, raise :class:`ImportRejected` listing every problem.

Identifying values are never logged, printed or put in a message.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.adapters.register_table import (
    SHOWABLE,
    Cell,
    Row,
    Table,
    cell_text,
    check_size,
    column_letter,
    read_table,
    reject,
)
from audit_core.domain.errors import ImportRejected, Problem
from audit_core.domain.policy import Area, BoardConfig
from audit_core.domain.privacy import (
    NOT_REPEATED,
    compact,
    identifying_header,
    identifying_value,
)
from audit_core.domain.register import Involvements, ParsedRegister, RegisterRow
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
    limits = config.register_limits
    if path.is_dir():
        raise reject(name, "this is a folder, not a register file")
    try:
        check_size(path.stat().st_size, name, limits)  # before reading it
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
    with read_table(data, name, limits) as table:
        rows = parse_register(table, config, today=today)
    return ParsedRegister(file=name, sha256=hashlib.sha256(data).hexdigest(), rows=rows)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a register is read and written.

    The checked rows stay alive until the import ends, and a large register holds
    millions of objects: the collector would walk them all again and again, for
    nothing (reference counting still frees whatever is dropped). A third of the
    import's time went there.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


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
            if len(self.seen) > 10_000:  # not a vocabulary: free text, row after row
                self.seen.clear()
            self.seen[text] = self.by_key.get(compact(text)) if compact(text) else None
        return self.seen[text]

    def unknown(self, text: str) -> str:
        """Why ``text`` is refused; it is quoted only if short, id-like and not a date."""
        showable = SHOWABLE.match(text) and identifying_value(text) is None
        shown = f" '{text}'" if showable else ""
        return f"unknown {self.kind}{shown} (expected one of: {', '.join(self.ids)})"


@dataclass
class _Context:
    """What checking one file needs, and what it found; shared by every row."""

    file: str
    today: dt.date
    areas: _Lookup
    categories: _Lookup
    age_bands: _Lookup
    flags: _Lookup
    agencies: _Lookup
    agency_areas: Mapping[str, frozenset[str]]
    area_shapes: Mapping[str, Area]
    columns: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (heading, index)
    index: dict[str, int] = field(default_factory=dict)  # key -> index
    problems: list[Problem] = field(default_factory=list)
    practitioners: dict[str, str | None] = field(default_factory=dict)  # id -> what is wrong
    names: dict[str, str] = field(default_factory=dict)  # one string per practitioner id
    # values that recur row after row, checked once: dates, flag lists, agency entries
    dates: dict[str | dt.datetime, dt.date | str] = field(default_factory=dict)
    flag_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    entries: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def of(cls, file: str, config: BoardConfig, today: dt.date) -> _Context:
        return cls(
            file=file,
            today=today,
            areas=_Lookup("area", config.board.areas),
            categories=_Lookup("category", config.categories),
            age_bands=_Lookup("age band", config.age_bands),
            flags=_Lookup("flag", config.flags),
            agencies=_Lookup("agency", config.agencies),
            agency_areas={a.id: frozenset(a.areas) for a in config.agencies},
            area_shapes={a.id: a for a in config.board.areas},
        )

    def problem(self, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(self.file, f"row {row}, column {column}", reason))

    def heading(self, index: int) -> str:
        """How a message names the column at ``index``: its heading if it is a register
        column (anything else could be a value), else its letter."""
        for heading, at in self.columns.values():
            if at == index:
                return heading
        return column_letter(index)


def parse_register(table: Table, config: BoardConfig, *, today: dt.date) -> list[RegisterRow]:
    """Check the header and every row of ``table``; raise ImportRejected with every problem."""
    ctx = _Context.of(table.file, config, today)
    header = table.header
    unnamed = _check_header(ctx, header)
    ctx.index.update({key: index for key, (_, index) in ctx.columns.items()})
    rows: list[RegisterRow] = []
    seen: dict[str, dict[str, int]] = {}  # area -> reference -> row
    reported: set[int] = set()  # columns without a heading, reported once each
    width = len(header.cells)
    used = max(ctx.index.values(), default=0) + 1  # up to the last register column
    for number, cells, refused in table.rows(used):  # a workbook's are read no further
        if refused:
            for index, reason in refused:
                ctx.problem(number, ctx.heading(index), reason)
            continue
        if len(cells) < used:  # a short CSV line: the cells it lacks are empty
            cells = [*cells, *[None] * (used - len(cells))]
        within = unnamed[: bisect.bisect_left(unnamed, len(cells))]  # sorted: only those here
        for index in (*within, *range(width, len(cells))):
            if index not in reported and cell_text(cells[index]):
                reported.add(index)
                ctx.problem(
                    number,
                    column_letter(index),
                    "this cell is in a column without a heading: name the column or clear it",
                )
        parsed = _parse_row(ctx, number, cells)
        if parsed is None:
            continue
        area_seen = seen.setdefault(parsed.area_id, {})
        if parsed.reference in area_seen:
            first = area_seen[parsed.reference]
            ctx.problem(
                number,
                ctx.columns["case_ref"][0],
                f"case '{parsed.reference}' of area {parsed.area_id} is already on row {first}",
            )
            continue
        area_seen[parsed.reference] = number
        rows.append(parsed)
    if ctx.problems:
        raise ImportRejected(ctx.problems)
    return rows


def _check_header(ctx: _Context, header: Row) -> list[int]:
    """Map column keys to (header as written, position) in ``ctx``; report bad headers.

    Returns the positions of the columns without a heading."""
    columns = ctx.columns
    unnamed: list[int] = []
    row, refused = header.number, dict(header.refused)
    for index, cell in enumerate(header.cells):
        letter = column_letter(index)
        if index in refused:
            ctx.problem(row, letter, refused[index])
            continue
        heading = cell_text(cell)
        column = COLUMN_BY_COMPACT.get(compact(heading))
        if not heading:
            unnamed.append(index)
        elif column is not None:
            if column.key in columns:
                ctx.problem(
                    row,
                    heading,
                    f"the column {column.key} appears twice (also as '{columns[column.key][0]}')",
                )
            else:
                columns[column.key] = (heading, index)
        elif (what := identifying_value(heading)) is not None:
            # not a heading at all: perhaps the file has no header row
            ctx.problem(row, letter, f"this heading looks like {what}, {NOT_REPEATED}")
        elif (what := identifying_header(heading)) is not None:
            ctx.problem(
                row, heading, f"a column of {what} would identify a child; {IDENTIFYING_COLUMN}"
            )
        else:
            known = ", ".join(c.key for c in COLUMNS)
            ctx.problem(
                row, heading, f"unknown column (check the spelling; the columns are: {known})"
            )
    for column in COLUMNS:
        if column.required and column.key not in columns:
            ctx.problems.append(
                Problem(ctx.file, f"row {row}", f"the required column {column.key} is missing")
            )
    return unnamed


class _Row:
    """One data row being checked: its cells, and where to report problems.

    A value that matches the configuration's vocabulary (an area, a category...)
    or parses as a date cannot identify anyone; anything else, and all free text
    (references, practitioner ids), is checked for identifying values before a
    message could quote it.
    """

    __slots__ = ("cells", "ctx", "refused", "row")

    def __init__(self, ctx: _Context, row: int, cells: Sequence[Cell]) -> None:
        self.ctx, self.row, self.cells = ctx, row, cells
        self.refused: set[str] = set()  # columns already reported as identifying

    def column(self, key: str) -> str:
        return self.ctx.columns[key][0] if key in self.ctx.columns else key

    def cell(self, key: str) -> Cell:
        index = self.ctx.index.get(key)
        return None if index is None else self.cells[index]

    def problem(self, key: str, reason: str) -> None:
        self.ctx.problem(self.row, self.column(key), reason)

    def identifying(self, key: str, text: str, *, dates: bool = True) -> bool:
        """Whether ``text`` could identify a child; if so, report it (without the value)."""
        what = identifying_value(text, dates=dates)
        if what is not None:
            self.refuse(key, what)
        return what is not None

    def refuse(self, key: str, what: str) -> None:
        if key not in self.refused:  # once per cell
            self.refused.add(key)
            self.problem(key, f"this value looks like {what}, {NOT_REPEATED}")

    def required(self, key: str, noun: str) -> str | None:
        """The cell's text, or None (reported) if it is empty; None if the column is missing."""
        if key not in self.ctx.columns:
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
        if not cell_text(cell):
            return None
        if isinstance(cell, str | dt.datetime):  # the same few dates recur: one object each
            value = self.ctx.dates.get(cell)
            if value is None:
                value = self.ctx.dates.setdefault(cell, parse_date(cell))
        else:
            value = parse_date(cell)
        if isinstance(value, str):
            if not self.identifying(key, cell_text(cell), dates=False):
                self.problem(key, value)
            return None
        if value > self.ctx.today:
            self.problem(key, f"the date is in the future (today is {self.ctx.today:%d/%m/%Y})")
            return None
        return value

    def reference(self) -> str | None:
        """The case reference, if it is one: never a date cell, never identifying."""
        reference = self.required("case_ref", "case reference")
        if reference is None:
            return None
        if isinstance(self.cell("case_ref"), dt.date | dt.time):  # an Excel date cell
            self.refuse("case_ref", "a date of birth")
        elif self.identifying("case_ref", reference):
            pass
        elif not CASE_REF.match(reference):
            self.problem(
                "case_ref",
                "a case reference is 1 to 64 letters, digits, '-', '_' or '/' (this one is "
                "not; it is not repeated here)",
            )
        else:
            return reference
        return None

    def shaped(self, reference: str | None, area_id: str | None) -> str | None:
        """The reference, if it has the shape of its area's references (``board.yaml``)."""
        if reference is None or area_id is None:
            return None
        area = self.ctx.area_shapes[area_id]
        if area.takes_reference(reference):
            return reference
        self.problem(
            "case_ref",
            f"this is not a case reference of {area.name}: they have the form "
            f"{area.case_ref_pattern} (board.yaml, case_ref_pattern); it is not repeated here",
        )
        return None


def _parse_row(ctx: _Context, row: int, cells: Sequence[Cell]) -> RegisterRow | None:
    """Check one row; return the case, or None after reporting its problems."""
    before = len(ctx.problems)
    r = _Row(ctx, row, cells)
    reference = r.reference()
    area = r.one_of("area", "area", ctx.areas)
    reference = r.shaped(reference, area)
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
    known = r.ctx.flag_lists.get(text)
    if known is not None:
        return known
    flags: set[str] = set()
    problems = len(r.ctx.problems)
    for entry in (e.strip() for e in text.split("|")):
        if not entry:
            continue
        found = r.ctx.flags.get(entry)
        if found is not None:
            flags.add(found)
        elif not r.identifying("flags", entry):
            r.problem("flags", r.ctx.flags.unknown(entry))
    result = tuple(sorted(flags))
    if len(r.ctx.problems) == problems and len(r.ctx.flag_lists) < 10_000:
        r.ctx.flag_lists[text] = result
    return result


def _involvements(r: _Row, text: str, area: str | None) -> Involvements | None:
    """Parse ``agency[:practitioner+practitioner]|...``; a repeated agency's people merge."""
    ctx = r.ctx
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    named = False
    for entry in (e.strip() for e in text.split("|")):
        if not entry:
            continue
        named = True
        parsed = ctx.entries.get(entry) or _entry(r, entry)
        if parsed is None:
            continue
        agency, people = parsed
        if area is not None and area not in ctx.agency_areas[agency]:
            r.problem("agencies", f"agency {agency} does not work in area {area}")
        if agency in found:
            parsed = (agency, tuple(sorted({*found[agency][1], *people})))
        found[agency] = parsed  # shared with the rows that name the same entry
    if not named:
        r.problem("agencies", "no agency is named; list the agencies involved")
    if not found:
        return None
    return tuple(found[agency] for agency in sorted(found))


def _entry(r: _Row, entry: str) -> tuple[str, tuple[str, ...]] | None:
    """One ``agency:practitioner+practitioner``, checked; kept for the next row if sound."""
    ctx = r.ctx
    name, _, people = entry.partition(":")
    agency = ctx.agencies.get(name.strip())
    if agency is None:
        if not r.identifying("agencies", name):
            r.problem("agencies", ctx.agencies.unknown(name.strip()))
        return None
    practitioners: list[str] = []
    sound = True
    for person in (p.strip() for p in people.split("+")):
        if not person:
            continue
        if person not in ctx.practitioners:  # ids recur: check each one once per file
            what = identifying_value(person)
            ctx.practitioners[person] = what or (
                None if PRACTITIONER_ID.match(person) else "not an id"
            )
        verdict = ctx.practitioners[person]
        if verdict is None:
            practitioners.append(ctx.names.setdefault(person, person))
            continue
        sound = False
        if verdict != "not an id":
            r.refuse("agencies", verdict)
        else:
            r.problem(
                "agencies",
                f"a practitioner id of agency {agency} is not an id (letters, digits, "
                "'-', '_', '.' or '/'; it is not repeated here)",
            )
    parsed = (agency, tuple(sorted(set(practitioners))))
    if sound:
        ctx.entries[entry] = parsed
    return parsed


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
