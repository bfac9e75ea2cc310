"""Whatever a file holds, an import either succeeds or is refused cleanly, writing nothing.

Random bytes and random tables (of plausible and implausible cells) go through
the whole import on one database, cleaned between examples. A refusal is
always :class:`ImportRejected`, never repeats an identifying value, and leaves
the database exactly as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from audit_core.adapters import db
from audit_core.adapters.register_file import COLUMNS as REGISTER_COLUMNS
from audit_core.bootstrap import App
from audit_core.domain.errors import ImportRejected
from audit_core.domain.models import AuditEvent, CaseFile, CaseInvolvement
from audit_core.services.register_import import ImportResult

pytestmark = pytest.mark.database

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = [column.key for column in REGISTER_COLUMNS]
IDENTIFYING = [
    "9434765919",
    "943 476 5919",
    "E8 1DY",
    "EC2V 7HH",
    "parent@example.org",
    "E8-1DY",
    "HKE81DY",
    "EC1A-1BB",
    "HK/401/023/2137",
    "HK-31122015",
]

plausible = st.sampled_from(
    [
        "HK-1",
        "HK-2",
        "CL-1",
        "hackney",
        "city",
        "City of London",
        "early_help",
        "child_in_need",
        "Child protection",
        "0-4",
        "11-15",
        "neglect",
        "neglect|domestic_abuse",
        "live_review",
        "hackney-csc:HCS-104+HCS-221|gp",
        "city-cft|camhs:CAMHS-508",
        "met-police:MET-3381",
        "2026-02-02",
        "01/12/2025",
        "2024-06-30",
        "",
        " ",
    ]
)
implausible = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            *IDENTIFYING,
            "31/02/2026",
            "2099-01-01",
            "1/1/26",
            "gp:",
            "|",
            ":",
            "+",
            '"',
            ";",
            ",",
            "\n",
            "\x00",
            "city-police",
            "hackney-education:HED 1",
            "x" * 70,
        ]
    ),
)
cell = st.one_of(plausible, plausible, implausible)
header = st.one_of(
    st.permutations(COLUMNS),
    st.lists(
        st.one_of(st.sampled_from([*COLUMNS, "Case Reference", "DOB", ""]), st.text()), max_size=11
    ),
)


@st.composite
def tables(draw: st.DrawFn) -> list[list[str]]:
    heading = list(draw(header))
    rows = draw(
        st.lists(st.lists(cell, min_size=0, max_size=len(heading) + 1), min_size=0, max_size=6)
    )
    return [heading, *rows]


@st.composite
def nearly_valid_tables(draw: st.DrawFn) -> list[list[str]]:
    """Valid Hackney cases, now and then with one cell replaced by something odd."""
    rows = []
    for number in range(draw(st.integers(min_value=1, max_value=5))):
        row = [
            draw(st.sampled_from([f"HK-{number}", "HK-1"])),
            draw(st.sampled_from(["hackney", "Hackney", " hackney "])),
            draw(st.sampled_from(["early_help", "child_in_need", "Child protection"])),
            draw(st.sampled_from(["0-4", "5-10", "11-15", "16-17"])),
            draw(st.sampled_from(["", "neglect", "domestic_abuse|live_review"])),
            draw(st.sampled_from(["hackney-csc|gp", "met-police:MET-3381|hackney-csc:HCS-1"])),
            draw(st.sampled_from(["", "2024-01-01", "01/06/2024"])),
            draw(st.sampled_from(["2026-02-02", "02/02/2026", "2026-03-02"])),
            draw(st.sampled_from(["", "2026-02-20"])),
            draw(st.sampled_from(["", "2025-01-31"])),
        ]
        if draw(st.integers(0, 3)) == 0:
            row[draw(st.integers(0, len(row) - 1))] = draw(implausible)
        rows.append(row)
    return [COLUMNS, *rows]


def csv_bytes(table: list[list[str]], delimiter: str, bom: bool) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(table)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8", "surrogatepass")


def xlsx_bytes(table: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in table:
        sheet.append([_excel_safe(c) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _excel_safe(value: object) -> object:
    if isinstance(value, str):  # Excel cannot hold control characters
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


Attempt = Callable[[str, bytes], "ImportResult | ImportRejected"]


@pytest.fixture
def attempt(engine: Engine, make_app: Callable[..., App], tmp_path: Path) -> Iterator[Attempt]:
    """Import bytes as a file of the given name; check the outcome; clean up after."""
    app = make_app()  # reads and imports the file in one transaction, as the CLI does

    def run(name: str, data: bytes) -> ImportResult | ImportRejected:
        path = tmp_path / name
        path.write_bytes(data)
        with db.transaction(engine) as session:
            before = _counts(session)
        try:
            result: ImportResult | ImportRejected = app.import_register(path)
        except ImportRejected as exc:
            with db.transaction(engine) as session:
                assert _counts(session) == before, "a refused import wrote something"
            text = str(exc)
            for value in IDENTIFYING:
                assert value not in text, "a refusal repeated an identifying value"
            assert exc.problems and all(p.reason for p in exc.problems)
            result = exc
        else:
            assert isinstance(result, ImportResult)
            assert len(result.added) + len(result.updated) + result.unchanged == result.rows
        with db.transaction(engine) as session:  # the next example starts from an empty register
            session.execute(delete(CaseInvolvement))
            session.execute(delete(CaseFile))
        return result

    yield run


def _counts(session: Session) -> list[int]:
    return [
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (CaseFile, CaseInvolvement, AuditEvent)
    ]


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_random_bytes_are_imported_or_refused_cleanly(
    attempt: Attempt, data: bytes, suffix: str
) -> None:
    attempt(f"register{suffix}", data)


@FUZZ
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_random_csv_tables_are_imported_or_refused_cleanly(
    attempt: Attempt, table: list[list[str]], delimiter: str, bom: bool
) -> None:
    attempt("register.csv", csv_bytes(table, delimiter, bom))


@settings(FUZZ, max_examples=40)
@given(
    table=tables(),
    extra=st.lists(
        st.one_of(
            st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            st.integers(min_value=-(10**12), max_value=10**12),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
        ),
        max_size=4,
    ),
)
def test_random_workbooks_with_typed_cells_are_imported_or_refused_cleanly(
    attempt: Attempt, table: list[list[object]], extra: list[object]
) -> None:
    if len(table) > 1:
        table[1] = [*extra, *table[1]][: max(len(table[1]), len(extra))]
    attempt("register.xlsx", xlsx_bytes(table))


@FUZZ
@given(table=nearly_valid_tables(), delimiter=st.sampled_from([",", ";"]))
def test_nearly_valid_registers_are_imported_or_refused_cleanly(
    attempt: Attempt, table: list[list[str]], delimiter: str
) -> None:
    outcome = attempt("register.csv", csv_bytes(table, delimiter, False))
    event("imported" if isinstance(outcome, ImportResult) else "refused")


def test_a_plausible_table_does_import(attempt: Attempt) -> None:
    """The generator above can produce a clean file: the fuzzing reaches the writing path."""
    table = [
        COLUMNS,
        ["HK-1", "hackney", "early_help", "0-4", "", "hackney-csc|gp", "", "2026-02-02", "", ""],
    ]
    result = attempt("register.csv", csv_bytes(table, ",", False))
    assert isinstance(result, ImportResult) and result.added == ("hackney/HK-1",)
