"""Reading a register export into rows of cells: CSV or the first sheet of an XLSX workbook.

CSV is UTF-8 with or without a BOM, with comma, semicolon or tab (sniffed from
the header line). Blank rows are skipped; row numbers stay as a spreadsheet
shows them (the header is row 1). A file that cannot be read is refused with
one sentence; what the cells mean is checked in :mod:`.register_file`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from audit_core.domain.errors import ImportRejected, Problem

CSV_SUFFIXES = frozenset({".csv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
SHOWABLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/-]{0,39}$")  # short id-like values are echoed

Cell = object  # str from CSV; str, int, float, bool, date, datetime or None from XLSX


@dataclass(frozen=True)
class Table:
    """The non-blank rows of a file, each with its row number as a spreadsheet shows it."""

    file: str
    rows: list[tuple[int, list[Cell]]]


def reject(file: str, reason: str) -> ImportRejected:
    return ImportRejected([Problem(file, "", reason)])


def read_table(data: bytes, file: str) -> Table:
    """Split a file's bytes into rows of cells; the file's name decides CSV or XLSX."""
    suffix = Path(file).suffix.lower()
    if suffix in CSV_SUFFIXES:
        rows = _read_csv(data, file)
    elif suffix in XLSX_SUFFIXES:
        rows = _read_xlsx(data, file)
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
    numbered = [(n, cells) for n, cells in enumerate(rows, start=1) if not _blank(cells)]
    if not numbered:
        raise reject(file, "the file is empty")
    if len(numbered) == 1:
        raise reject(file, "the file has a header row but no cases")
    return Table(file, numbered)


def _blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or c == "" or cell_text(c) == "" for c in cells)


def _read_csv(data: bytes, file: str) -> list[list[Cell]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise reject(
            file,
            "the file is not UTF-8 text: in Excel, save it as 'CSV UTF-8 (Comma delimited)'",
        ) from None
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), skipinitialspace=True
    )
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error:
        raise reject(
            file, f"the file is not well-formed CSV (near line {reader.line_num})"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The commonest of comma, semicolon and tab in the first non-blank line, outside quotes."""
    for line in text.splitlines():
        if line.strip():
            bare = re.sub(r'"[^"]*"', "", line)
            counts = {d: bare.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] > 0 else ","
    return ","


def _read_xlsx(data: bytes, file: str) -> list[list[Cell]]:
    # openpyxl raises many kinds of exception on a damaged or foreign file (zip, XML,
    # key and value errors); each means the same thing to the person importing it.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise reject(file, "the file could not be opened as an Excel workbook (.xlsx)") from None
    try:
        if not workbook.worksheets:
            return []
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size; read every row
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception:
        raise reject(file, "the workbook could not be read: its first sheet is damaged") from None
    finally:
        workbook.close()


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
