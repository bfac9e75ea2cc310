"""A table of text as an Excel workbook (``.xlsx``), for the dashboard's progress export.

Every cell is written as a string (openpyxl's data type ``s``), never as a formula or a
number guessed from its text, so what an auditor typed stays text. The caller has
already given formula-looking text a leading apostrophe (a second defence, for the file
opened in another program or saved as CSV). Characters that XML 1.0 cannot hold
(control characters) are dropped rather than refused.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WIDEST = 60  # characters: a long free-text cell wraps in the program rather than this


def workbook(title: str, rows: Sequence[Sequence[str]]) -> bytes:
    """The rows (headings first) as one sheet called ``title``; the file's bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    widths: dict[int, int] = {}
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            text = _NOT_XML.sub("", value)
            cell = sheet.cell(row=r, column=c)
            _set_text(cell, text)
            if r == 1:
                cell.font = Font(bold=True)
            widths[c] = max(widths.get(c, 0), min(len(text), _WIDEST))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = width + 2
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _set_text(cell: Cell, text: str) -> None:
    """The cell holds ``text`` as a string, whatever it looks like."""
    cell.value = text
    cell.data_type = "s"  # openpyxl would take "=..." for a formula
