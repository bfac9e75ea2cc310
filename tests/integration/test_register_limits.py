"""What a register file may not be: too large, too long, a formula instead of a value.

Each limit (``register.yaml``, ``limits``) is refused with one sentence that
names it, and a refused file writes nothing. A workbook is read as far to the
right as its headings and as far down as its rows, whatever size it declares.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from support import CONFIG_DIR

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.adapters.register_file import read_register
from audit_core.adapters.register_table import read_table
from audit_core.bootstrap import App
from audit_core.domain.errors import ConfigError, ImportRejected
from audit_core.domain.models import AuditEvent, CaseFile, CaseInvolvement
from audit_core.domain.policy import BoardConfig, RegisterLimits

HEADER = "case_ref,area,category,age_band,flags,agencies,opened_on,last_activity_on"
CELLS = ["HK-1", "hackney", "child_in_need", "5-10", "neglect", "hackney-csc:HCS-104|gp",
         "2025-06-02", "2026-02-02"]  # fmt: skip


def row(number: int) -> str:
    return ",".join([f"HK-{number}", *CELLS[1:]])


def write(tmp_path: Path, *lines: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def limited(config: BoardConfig, **limits: int) -> BoardConfig:
    return config.model_copy(update={"register_limits": RegisterLimits(**limits)})


def refusal(path: Path, config: BoardConfig, now: dt.datetime) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_register(path, config, now=now)
    return [f"{p.location}: {p.reason}" if p.location else p.reason for p in caught.value.problems]


def workbook(*rows: list[object]) -> Workbook:
    book = Workbook()
    sheet = book.active
    for cells in rows:
        sheet.append(cells)
    return book


# --- the limits -------------------------------------------------------------------------


def test_the_shipped_limits_are_the_documented_defaults(config: BoardConfig) -> None:
    assert config.register_limits == RegisterLimits()
    assert (RegisterLimits().max_file_mb, RegisterLimits().max_rows) == (20, 50_000)
    assert RegisterLimits().max_field_chars == 500


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(b"\xff" * (1024 * 1024 + 200_000))  # not even text: never read
    assert refusal(path, limited(config, max_file_mb=1), now) == [
        "the file is 1.2 MB, more than the 1 MB an import takes (register.yaml, "
        "limits.max_file_mb): split the register by area, or raise the limit"
    ]


def test_a_file_with_more_cases_than_the_limit_is_refused_as_soon_as_it_is_reached(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    three = limited(config, max_rows=3)
    assert len(read_register(write(tmp_path, HEADER, *map(row, range(3))), three, now=now).rows)
    wrong_after = [*map(row, range(4)), row(9).replace("hackney,", "nowhere,")]
    assert refusal(write(tmp_path, HEADER, *wrong_after), three, now) == [
        "the file has more than 3 cases, the most one import takes (register.yaml, "
        "limits.max_rows): split the register by area, or raise the limit"
    ]


def test_every_cell_over_the_length_limit_is_named_by_row_and_column(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    long = "hackney-csc:HCS-104+HCS-221+HCS-318|gp"
    path = write(tmp_path, HEADER, row(1), row(2).replace("hackney-csc:HCS-104|gp", long),
                 row(3), row(4).replace("neglect", "neglect|domestic_abuse|in_court"))  # fmt: skip
    reason = (
        "the cell is longer than the 24 characters a field may hold (register.yaml, "
        "limits.max_field_chars)"
    )
    assert refusal(path, limited(config, max_field_chars=24), now) == [
        f"row 3, column agencies: {reason}",
        f"row 5, column flags: {reason}",
    ]


def test_a_heading_over_the_length_limit_is_named_by_its_column_letter(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER + ",notes on the case from the agency", row(1) + ",")
    (problem,) = refusal(path, limited(config, max_field_chars=24), now)
    assert problem.startswith("row 1, column I: the cell is longer than the 24 characters")


def test_a_quote_left_open_is_refused_at_its_row_without_reading_on(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    runaway = row(2).replace("neglect", '"neglect')
    rest = [row(n) for n in range(3, 3000)]  # swallowed by the open quote
    assert refusal(write(tmp_path, HEADER, row(1), runaway, *rest), config, now) == [
        "row 3: a cell of this row is far longer than the 500 characters a field may hold "
        '(register.yaml, limits.max_field_chars); if it should be short, a quote (") in it '
        "has no closing quote"
    ]


@pytest.mark.database
@pytest.mark.parametrize(
    ("limits", "lines"),
    [
        ({"max_file_mb": 1}, [HEADER, *(row(n) for n in range(12_000))]),
        ({"max_rows": 2}, [HEADER, row(1), row(2), row(3)]),
        ({"max_field_chars": 24}, [HEADER, row(1), row(2).replace("gp", "gp|camhs")]),
    ],
)
def test_a_file_over_a_limit_writes_nothing(
    tmp_path: Path,
    engine: Engine,
    config: BoardConfig,
    now: dt.datetime,
    limits: dict[str, int],
    lines: list[str],
) -> None:
    app = App(config=limited(config, **limits), engine=engine, clock=lambda: now)
    app.import_register(write(tmp_path, HEADER, row(900), name="first.csv"))
    before = counts(engine)
    with pytest.raises(ImportRejected):
        app.import_register(write(tmp_path, *lines))
    assert counts(engine) == before


def counts(engine: Engine) -> list[int]:
    with db.transaction(engine) as session:
        return [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (CaseFile, CaseInvolvement, AuditEvent)
        ]


# --- workbooks ----------------------------------------------------------------------------


def test_a_formula_is_named_as_a_formula_not_taken_for_an_empty_cell(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    book = workbook(
        HEADER.split(","),
        CELLS,
        ['=CONCAT("HK-", 2)', *CELLS[1:]],
        ["HK-3", *CELLS[1:-1], "=TODAY()-30"],
    )
    path = tmp_path / "register.xlsx"
    book.save(path)  # openpyxl stores formulas without a value, as many tools do
    reason = (
        "the cell holds a formula, not a value: save the sheet with values (copy the column "
        "and paste it as values) or export it as CSV"
    )
    assert refusal(path, config, now) == [
        f"row 3, column case_ref: {reason}",
        f"row 4, column last_activity_on: {reason}",
    ]


def test_a_stray_cell_far_to_the_right_is_not_read(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    book = workbook(HEADER.split(","), CELLS, ["HK-2", *CELLS[1:]])
    book.active.cell(row=3, column=16384, value="stray")  # column XFD
    path = tmp_path / "register.xlsx"
    book.save(path)
    with read_table(path.read_bytes(), path.name, RegisterLimits()) as table:
        rows = list(table.rows(8))
    assert [len(r.cells) for r in rows] == [8, 8]  # as far as the last column, no further
    assert [r.reference for r in read_register(path, config, now=now).rows] == ["HK-1", "HK-2"]


def test_a_stray_heading_far_to_the_right_is_named_and_the_rows_read_no_further(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    rows = [[f"HK-{n}", *CELLS[1:]] for n in range(50)]
    rows[20][2] = "child in danger"  # still found: the rows are read up to the last column
    book = workbook(HEADER.split(","), *rows)
    book.active.cell(row=1, column=16384, value="stray")
    path = tmp_path / "register.xlsx"
    book.save(path)
    unknown, category = refusal(path, config, now)
    assert unknown.startswith("row 1, column stray: unknown column")
    assert category.startswith("row 22, column category: unknown category")
    with read_table(path.read_bytes(), path.name, RegisterLimits()) as table:
        assert len(table.header.cells) == 16384
        assert {len(r.cells) for r in table.rows(8)} == {8}


def test_a_sheet_that_declares_a_million_rows_and_every_column_is_read_as_it_is(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    book = workbook(HEADER.split(","), CELLS)
    path = tmp_path / "register.xlsx"
    book.save(path)
    declare_dimension(path, "A1:XFD1048576")
    with read_table(path.read_bytes(), path.name, RegisterLimits()) as table:
        rows = list(table.rows(8))
    assert [(r.number, len(r.cells)) for r in rows] == [(2, 8)]
    assert [r.reference for r in read_register(path, config, now=now).rows] == ["HK-1"]


def declare_dimension(path: Path, dimension: str) -> None:
    """Rewrite the first sheet's declared size, as some writers get it wrong."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                )
                assert count == 1
            target.writestr(info, data)
    copy.replace(path)


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = tmp_path / "register.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * (11 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    assert refusal(path, limited(config, max_file_mb=1), now) == [
        "the workbook unpacks to more than 10 MB, far more than a register of its size: "
        "save the register as CSV, or copy it into a new workbook"
    ]


# --- the configuration's schema ------------------------------------------------------------


@pytest.fixture
def config_copy(tmp_path: Path) -> Callable[[str, str, str], list[str]]:
    """Load the example configuration with one edit; the problems it has, as text."""

    def load(name: str, old: str, new: str) -> list[str]:
        root = tmp_path / "config"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(CONFIG_DIR, root)
        text = (root / name).read_text(encoding="utf-8")
        assert old in text
        (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(root)
        return [f"{p.location}: {p.reason}" for p in caught.value.problems]

    return load


def test_a_reference_pattern_that_does_not_compile_is_named(
    config_copy: Callable[[str, str, str], list[str]],
) -> None:
    (problem,) = config_copy("board.yaml", r"'^HK-\d{1,6}$'", r"'^HK-(\d{1,6}$'")
    assert problem.startswith("board.areas[0].case_ref_pattern (line ")
    assert "not a valid regular expression (missing ), unterminated subpattern)" in problem


def test_an_area_without_a_reference_pattern_is_refused(
    config_copy: Callable[[str, str, str], list[str]],
) -> None:
    (problem,) = config_copy("board.yaml", "      case_ref_pattern: '^CL-\\d{1,6}$'", "")
    assert re.fullmatch(r"board\.areas\[1\]\.case_ref_pattern.*: required key is missing", problem)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("max_rows: 50000", "max_rows: 0", "limits.max_rows"),
        ("max_file_mb: 20", "max_file_mb: 5000", "limits.max_file_mb"),
        ("max_field_chars: 500", "max_field_chars: 200000", "limits.max_field_chars"),
        ("max_rows: 50000", "max_cases: 50000", "limits.max_cases"),
    ],
)
def test_limits_out_of_range_or_misspelt_are_named(
    config_copy: Callable[[str, str, str], list[str]], old: str, new: str, key: str
) -> None:
    (problem,) = config_copy("register.yaml", old, new)
    assert problem.startswith(f"{key} (line ")
