"""Reading a register export into rows of cells: CSV or the first sheet of an XLSX workbook.

CSV is UTF-8 with or without a BOM, with comma, semicolon or tab (sniffed from
the header line). Blank rows are skipped; row numbers stay as a spreadsheet
shows them (the header is row 1). A file that cannot be read is refused with
one sentence; what the cells mean is checked in :mod:`.register_file`.

Rows are read one at a time, never the whole file at once, within the
configured limits (:class:`~audit_core.domain.policy.RegisterLimits`): a file
larger than the size limit is refused before it is read, one with more cases
than the row limit as soon as the row past it is reached. A workbook is read
in openpyxl's read-only mode, its rows only as far to the right as the caller
asks (the last column it knows), whatever size the sheet declares: a stray
cell far to the right costs nothing. A cell longer than the field limit, or
holding a formula, is not a value: each row comes with the cells it cannot
give, for the checks to name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from audit_core.domain.errors import ImportRejected, Problem
from audit_core.domain.policy import RegisterLimits

CSV_SUFFIXES = frozenset({".csv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
SHOWABLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/-]{0,39}$")  # short id-like values are echoed
UNPACKED_PER_PACKED = 10  # a workbook may unpack to this many times the size limit
FORMULA = "f"  # openpyxl's data type of a cell holding a formula

Cell = object  # str from CSV; str, int, float, bool, date, datetime or None from XLSX


@dataclass(frozen=True)
class Refused:
    """A cell that is not read as a value, and why (it is not repeated)."""

    reason: str


class Row(NamedTuple):
    """One non-blank row: its number as a spreadsheet shows it, its cells, and the
    cells that cannot be read (too long, or a formula) as (position, why)."""

    number: int
    cells: Sequence[Cell]
    refused: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Table:
    """A file's header row, and a way to read its other rows as they are needed."""

    file: str
    header: Row
    _rows: Callable[[int], Iterator[Row]]
    limits: RegisterLimits

    def rows(self, width: int) -> Iterator[Row]:
        """The non-blank rows after the header, read once; in a workbook, only the first
        ``width`` columns (a CSV line gives every cell it has).

        More rows than the limit are refused as soon as the first too many is reached,
        and none at all as a file with a header but no cases.
        """
        count = 0
        for count, row in enumerate(self._rows(max(width, 1)), start=1):
            if count > self.limits.max_rows:
                raise reject(
                    self.file,
                    f"the file has more than {self.limits.max_rows:,} cases, the most one "
                    "import takes (register.yaml, limits.max_rows): split the register by "
                    "area, or raise the limit",
                )
            yield row
        if count == 0:
            raise reject(self.file, "the file has a header row but no cases")


def reject(file: str, reason: str) -> ImportRejected:
    return ImportRejected([Problem(file, "", reason)])


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at ``index`` (0-based): A, B, ... XFD."""
    return get_column_letter(index + 1)


def check_size(size: int, file: str, limits: RegisterLimits) -> None:
    """Refuse a file larger than the limit, before anything of it is read."""
    if size > limits.max_file_bytes:
        raise reject(
            file,
            f"the file is {size / 1024 / 1024:.1f} MB, more than the {limits.max_file_mb} MB "
            "an import takes (register.yaml, limits.max_file_mb): split the register by area, "
            "or raise the limit",
        )


@contextmanager
def read_table(data: bytes, file: str, limits: RegisterLimits) -> Iterator[Table]:
    """The header and the rows of a file's bytes; the file's name decides CSV or XLSX.

    The rows are read while the block iterates them; the file is closed after.
    """
    check_size(len(data), file, limits)
    suffix = Path(file).suffix.lower()
    if suffix in CSV_SUFFIXES:
        with _csv_rows(data, file, limits) as raw:
            rows = _checked_text(raw, limits)
            yield Table(file, _header(file, rows), lambda width: rows, limits)
    elif suffix in XLSX_SUFFIXES:
        with _xlsx_sheet(data, file, limits) as sheet:
            header = _header(file, _checked(sheet.header_rows(), limits))
            yield Table(file, header, lambda width: _checked(sheet.rows(width), limits), limits)
    elif suffix == ".xls":
        raise reject(
            file, "the old Excel format (.xls) cannot be read: save the register as .xlsx or .csv"
        )
    else:
        shown = f"'{suffix}' " if SHOWABLE.match(suffix.lstrip(".")) else ""
        raise reject(
            file,
            f"files of type {shown}cannot be imported: export the register as CSV (.csv) "
            "or Excel (.xlsx)",
        )


RawRows = Iterator[tuple[int, Sequence[Cell]]]  # every row, numbered, blank ones too


def _header(file: str, rows: Iterator[Row]) -> Row:
    """The first non-blank row."""
    header = next(rows, None)
    if header is None:
        raise reject(file, "the file is empty")
    return header


def _checked(rows: RawRows, limits: RegisterLimits) -> Iterator[Row]:
    """The non-blank rows, with the cells that cannot be read and why."""
    longest, too_long = limits.max_field_chars, _too_long(limits)
    for number, cells in rows:
        refused = tuple(
            (i, c.reason if isinstance(c, Refused) else too_long)
            for i, c in enumerate(cells)
            if isinstance(c, Refused) or len(cell_text(c)) > longest
        )
        if refused or not all(blank(c) for c in cells):
            yield Row(number, cells, refused)


def _checked_text(rows: Iterator[tuple[int, list[str]]], limits: RegisterLimits) -> Iterator[Row]:
    """:func:`_checked` for rows of stripped text only (CSV), at the speed of C."""
    longest, too_long = limits.max_field_chars, _too_long(limits)
    for number, cells in rows:
        if not any(cells):
            continue
        refused: tuple[tuple[int, str], ...] = ()
        if max(map(len, cells)) > longest:
            refused = tuple((i, too_long) for i, c in enumerate(cells) if len(c) > longest)
        yield Row(number, cells, refused)


def _too_long(limits: RegisterLimits) -> str:
    return (
        f"the cell is longer than the {limits.max_field_chars} characters a field may hold "
        "(register.yaml, limits.max_field_chars)"
    )


def blank(cell: Cell) -> bool:
    return cell is None or cell == "" or cell_text(cell) == ""


# --- CSV ---------------------------------------------------------------------------------


@contextmanager
def _csv_rows(
    data: bytes, file: str, limits: RegisterLimits
) -> Iterator[Iterator[tuple[int, list[str]]]]:
    # decoded as it is read: the text is never held whole, next to the bytes
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        yield _csv_records(text, file, limits)
    except UnicodeDecodeError:
        raise reject(
            file,
            "the file is not UTF-8 text: in Excel, save it as 'CSV UTF-8 (Comma delimited)'",
        ) from None


def _csv_records(
    text: io.TextIOWrapper, file: str, limits: RegisterLimits
) -> Iterator[tuple[int, list[str]]]:
    leading: list[str] = []
    for line in text:  # blank lines before the header do not decide the delimiter
        leading.append(line)
        if line.strip():
            break
    delimiter = _sniff_delimiter(leading[-1]) if leading else ","
    reader = csv.reader(itertools.chain(leading, text), delimiter=delimiter, skipinitialspace=True)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in row]
    except csv.Error as exc:
        if "field larger than field limit" not in str(exc):
            raise reject(
                file, f"the file is not well-formed CSV (near line {reader.line_num})"
            ) from None
        # the csv module stops at 131,072 characters, more than any limit allowed
        raise ImportRejected(
            [
                Problem(
                    file,
                    f"row {number + 1}",
                    f"a cell of this row is far longer than the {limits.max_field_chars} "
                    "characters a field may hold (register.yaml, limits.max_field_chars); if "
                    'it should be short, a quote (") in it has no closing quote',
                )
            ]
        ) from None


def _sniff_delimiter(line: str) -> str:
    """The commonest of comma, semicolon and tab in the header line, outside quotes."""
    bare = re.sub(r'"[^"]*"', "", line)
    counts = {d: bare.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


# --- XLSX --------------------------------------------------------------------------------


@contextmanager
def _xlsx_sheet(data: bytes, file: str, limits: RegisterLimits) -> Iterator[_Sheet]:
    # openpyxl raises many kinds of exception on a damaged or foreign file (zip, XML,
    # key and value errors); each means the same thing to the person importing it.
    source = io.BytesIO(data)
    _check_unpacked(source, file, limits)
    try:
        workbook = load_workbook(source, read_only=True, data_only=False)
    except MemoryError:
        raise reject(file, _TOO_BIG) from None
    except Exception:
        raise reject(file, "the file could not be opened as an Excel workbook (.xlsx)") from None
    try:
        yield _Sheet(file, workbook.worksheets[0] if workbook.worksheets else None)
    finally:
        workbook.close()


_TOO_BIG = "the workbook is too large to read in the memory there is: save the register as CSV"


def _check_unpacked(source: io.BytesIO, file: str, limits: RegisterLimits) -> None:
    """Refuse a workbook that would unpack to far more than its size (a 'zip bomb')."""
    try:
        with zipfile.ZipFile(source) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise reject(file, "the file could not be opened as an Excel workbook (.xlsx)") from None
    finally:
        source.seek(0)
    most = limits.max_file_mb * UNPACKED_PER_PACKED
    if unpacked > most * 1024 * 1024:
        raise reject(
            file,
            f"the workbook unpacks to more than {most} MB, far more than a register of its "
            "size: save the register as CSV, or copy it into a new workbook",
        )


class _Sheet:
    """The first sheet of a workbook in read-only mode: its header, then its other rows.

    The sheet's declared size is not trusted (some writers record a wrong one, some a
    huge one): rows are read to the last there is, and columns only as far as asked.
    """

    def __init__(self, file: str, sheet: Any) -> None:
        self.file, self.sheet = file, sheet
        self.header = 0  # the header's row number, once found
        if sheet is not None:
            sheet.reset_dimensions()

    def header_rows(self) -> RawRows:
        """The rows up to the first non-blank one (the header), each as wide as it is."""
        if self.sheet is None:
            return
        for number, values in self._read(self.sheet.iter_rows(), 1):
            self.header = number
            yield number, values
            if not all(blank(v) for v in values):
                return

    def rows(self, width: int) -> RawRows:
        """The rows after the header, their first ``width`` cells only."""
        if self.sheet is not None:
            after = self.sheet.iter_rows(min_row=self.header + 1, max_col=width)
            yield from self._read(after, self.header + 1)

    def _read(self, rows: Iterator[Sequence[Any]], first: int) -> RawRows:
        """The sheet's rows as values; whatever openpyxl raises means the sheet is damaged."""
        try:
            for number, cells in enumerate(rows, start=first):
                yield number, [_value(c) for c in cells]
        except MemoryError:
            raise reject(self.file, _TOO_BIG) from None
        except Exception:
            raise reject(
                self.file, "the workbook could not be read: its first sheet is damaged"
            ) from None


def _value(cell: object) -> Cell:
    if getattr(cell, "data_type", None) == FORMULA:
        return Refused(
            "the cell holds a formula, not a value: save the sheet with values (copy the "
            "column and paste it as values) or export it as CSV"
        )
    return getattr(cell, "value", None)


def cell_text(cell: Cell) -> str:
    """A cell as the text a person sees, without surrounding spaces."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time(0) else cell.isoformat(" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return str(cell).strip()
