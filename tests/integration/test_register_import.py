"""Importing the case register: the formats case systems export, re-imports, and refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support import LONDON
from support.trail import events as trail

from audit_core.adapters import db
from audit_core.adapters.register_file import read_register
from audit_core.bootstrap import App
from audit_core.domain.errors import ImportRejected
from audit_core.domain.models import Agency, AuditEvent, CaseFile, CaseInvolvement
from audit_core.domain.policy import BoardConfig
from audit_core.domain.register import RegisterRow
from audit_core.services import register_import
from audit_core.services.register_import import ImportResult, import_register
from audit_core.services.unit_of_work import UnitOfWork

PROJECT = Path(__file__).resolve().parents[2]
HEADER = (
    "case_ref,area,category,age_band,flags,agencies,opened_on,last_activity_on,closed_on,"
    "last_audited_on"
)
HK_1 = (
    "HK-1,hackney,child_protection,0-4,neglect|domestic_abuse,"
    "hackney-csc:HCS-104+HCS-221|met-police:MET-3381|gp,2025-01-06,2026-02-20,,"
)
HK_2 = "HK-2,hackney,early_help,5-10,,early-help:EH-406|hackney-education,,14/11/2025,,"
CL_1 = "CL-1,city,child_in_need,11-15,parental_mental_health,city-cft|camhs:CAMHS-508,,2026-01-30,,"


def write(tmp_path: Path, *lines: str, name: str = "register.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def with_shape(config: BoardConfig, area_id: str, pattern: str) -> BoardConfig:
    """The configuration with another shape of case reference for one area."""
    areas = tuple(
        a.model_copy(update={"case_ref_pattern": pattern}) if a.id == area_id else a
        for a in config.board.areas
    )
    return config.model_copy(update={"board": config.board.model_copy(update={"areas": areas})})


def parse(path: Path, config: BoardConfig, now: dt.datetime) -> dict[str, RegisterRow]:
    return {row.reference: row for row in read_register(path, config, now=now).rows}


def refusal(path: Path, config: BoardConfig, now: dt.datetime) -> list[str]:
    """The problems of a refused file, as 'location: reason'."""
    with pytest.raises(ImportRejected) as caught:
        read_register(path, config, now=now)
    return [f"{p.location}: {p.reason}" if p.location else p.reason for p in caught.value.problems]


def import_file(uow: UnitOfWork, path: Path) -> ImportResult:
    """Read, check and import a register file in the unit of work (the caller commits)."""
    return import_register(uow, read_register(path, uow.config, now=uow.now))


@contextmanager
def committed(
    engine: Engine, config: BoardConfig, now: dt.datetime, actor: str
) -> Iterator[UnitOfWork]:
    """A unit of work in its own transaction: committed if the block returns."""
    with db.transaction(engine) as session:
        yield UnitOfWork(session, config, now, actor)


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(CaseFile)) or 0,
        session.scalar(select(func.count()).select_from(CaseInvolvement)) or 0,
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


# --- reading what case systems export -------------------------------------------------


def test_it_reads_a_comma_separated_register(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    rows = parse(write(tmp_path, HEADER, HK_1, HK_2, CL_1), config, now)
    assert set(rows) == {"HK-1", "HK-2", "CL-1"}
    hk1 = rows["HK-1"]
    assert (hk1.area_id, hk1.category, hk1.age_band) == ("hackney", "child_protection", "0-4")
    assert hk1.flags == ("domestic_abuse", "neglect")
    assert hk1.involvements == (
        ("gp", ()),
        ("hackney-csc", ("HCS-104", "HCS-221")),
        ("met-police", ("MET-3381",)),
    )
    assert (hk1.opened_on, hk1.last_activity_on) == (dt.date(2025, 1, 6), dt.date(2026, 2, 20))
    assert hk1.closed_on is None and hk1.last_audited_on is None
    assert rows["HK-2"].flags == ()


def test_it_reads_a_semicolon_separated_register_with_a_byte_order_mark(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    lines = [line.replace(",", ";") for line in (HEADER, HK_1, CL_1)]
    rows = parse(write(tmp_path, *lines, bom=True), config, now)
    assert set(rows) == {"HK-1", "CL-1"}
    assert rows["CL-1"].involvements == (("camhs", ("CAMHS-508",)), ("city-cft", ()))


def test_commas_inside_quoted_cells_do_not_confuse_the_delimiter(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    header = HEADER.replace(",", ";").replace("case_ref", '"Case, reference"')
    rows = read_register(write(tmp_path, header, HK_2.replace(",", ";")), config, now=now)
    assert [r.reference for r in rows.rows] == ["HK-2"]


def test_it_reads_an_excel_workbook_with_real_date_cells(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "HK-7",
            "hackney",
            "looked_after",
            "16-17",
            "child_exploitation",
            "hackney-csc:HCS-131|youth-justice:YJS-091",
            dt.datetime(2024, 9, 2),
            dt.datetime(2026, 2, 27),
            None,
            dt.date(2025, 6, 30),
        ]
    )
    sheet.append([])  # a blank row in the middle is skipped
    sheet.append(["CL-8", "City of London", "Early help", "0-4", None, "early-help", None,
                  "01/12/2025", None, None])  # fmt: skip
    sheet.append([12345, "city", "child_in_need", "5-10", None, "city-cft", None,
                  dt.datetime(2026, 1, 5), None, None])  # fmt: skip
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    rows = parse(path, with_shape(config, "city", r"CL-\d+|\d{5}"), now)
    assert set(rows) == {"HK-7", "CL-8", "12345"}  # a number cell is read as its text
    assert rows["HK-7"].opened_on == dt.date(2024, 9, 2)
    assert rows["HK-7"].last_audited_on == dt.date(2025, 6, 30)
    assert rows["CL-8"].area_id == "city" and rows["CL-8"].category == "early_help"
    assert rows["CL-8"].last_activity_on == dt.date(2025, 12, 1)
    assert rows["12345"].row == 5  # numbered as the spreadsheet shows it


def test_it_tolerates_stray_spaces_and_header_variants(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    header = (
        " Case Reference ,AREA, Category ,Age Band,  Flags,Involved Agencies,Opened,"
        "Last Activity,Date Closed,Last-Audited"
    )
    row = (
        "  HK-9 , Hackney , Child In Need ,5-10 , neglect | domestic_abuse ,"
        " hackney-csc : HCS-104 + HCS-221 | gp ,  2025-03-01 , 02/02/2026 ,  , "
    )
    rows = parse(write(tmp_path, header, row), config, now)
    hk9 = rows["HK-9"]
    assert (hk9.area_id, hk9.category, hk9.age_band) == ("hackney", "child_in_need", "5-10")
    assert hk9.flags == ("domestic_abuse", "neglect")
    assert hk9.involvements == (("gp", ()), ("hackney-csc", ("HCS-104", "HCS-221")))
    assert hk9.last_activity_on == dt.date(2026, 2, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-01", dt.date(2026, 2, 1)),
        ("01/02/2026", dt.date(2026, 2, 1)),
        ("1/2/2026", dt.date(2026, 2, 1)),
        ("01-02-2026", dt.date(2026, 2, 1)),
        ("01.02.2026", dt.date(2026, 2, 1)),
        ("2026-02-01 00:00:00", dt.date(2026, 2, 1)),
        ("01/02/2026 00:00", dt.date(2026, 2, 1)),
    ],
)
def test_dates_are_read_day_first_or_iso(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, text: str, expected: dt.date
) -> None:
    rows = parse(write(tmp_path, HEADER, HK_2.replace("14/11/2025", text)), config, now)
    assert rows["HK-2"].last_activity_on == expected


def test_optional_columns_may_be_left_out(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(
        tmp_path,
        "case_ref,area,category,age_band,agencies,last_activity_on",
        "HK-3,hackney,s47_enquiry,11-15,hackney-csc|met-police,2026-02-27",
    )
    row = parse(path, config, now)["HK-3"]
    assert row.flags == () and row.opened_on is None and row.closed_on is None


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER, HK_1, "", ",,,,", HK_2.replace("hackney,", "hakney,", 1))
    assert refusal(path, config, now) == [
        "row 5, column area: unknown area 'hakney' (expected one of: hackney, city)"
    ]


# --- what is refused, and how it is said -------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            HK_2.replace("hackney,", "hakney,"),
            "row 2, column area: unknown area 'hakney' (expected one of: hackney, city)",
        ),
        (
            HK_2.replace("early_help", "universal"),
            "row 2, column category: unknown category 'universal' (expected one of: "
            "early_help, child_in_need, child_protection, looked_after, s47_enquiry)",
        ),
        (
            HK_2.replace("5-10", "5-11"),
            "row 2, column age_band: unknown age band '5-11' (expected one of: 0-4, 5-10, "
            "11-15, 16-17)",
        ),
        (
            HK_2.replace(",,early-help", ",neglect|poverty,early-help"),
            "row 2, column flags: unknown flag 'poverty' (expected one of: "
            "parental_mental_health, domestic_abuse, parental_substance_misuse, neglect, "
            "child_exploitation, live_review, in_court)",
        ),
        (
            HK_2.replace("hackney-education", "hackney-schools"),
            "row 2, column agencies: unknown agency 'hackney-schools' (expected one of: "
            "hackney-csc, city-cft, met-police, city-police, gp, health-visiting, camhs, elft, "
            "homerton, hackney-education, city-schools, probation, early-help, housing, "
            "substance-misuse, youth-justice)",
        ),
        (
            HK_2.replace("hackney-education", "city-police:COLP-0871"),
            "row 2, column agencies: agency city-police does not work in area hackney",
        ),
        (
            HK_2.replace("14/11/2025", "03/03/2026"),
            "row 2, column last_activity_on: the date is in the future (today is 02/03/2026)",
        ),
        (
            HK_2.replace(",,14/11/2025", ",2025-12-01,14/11/2025"),
            "row 2, column last_activity_on: the last activity is before the case opened",
        ),
        (
            HK_2.replace(",,14/11/2025,,", ",2025-12-01,2026-01-14,2025-11-30,"),
            "row 2, column closed_on: the case closes before it opened",
        ),
        (
            HK_2.replace("14/11/2025", "31/02/2026"),
            "row 2, column last_activity_on: this date does not exist on the calendar "
            "(dates are dd/mm/yyyy or yyyy-mm-dd)",
        ),
        (
            HK_2.replace("14/11/2025", "14/11/25"),
            "row 2, column last_activity_on: write the year in full (dd/mm/yyyy or yyyy-mm-dd)",
        ),
        (
            HK_2.replace("14/11/2025", "last week"),
            "row 2, column last_activity_on: this is not a date: write dates as dd/mm/yyyy "
            "or yyyy-mm-dd",
        ),
        (
            HK_2.replace("14/11/2025", ""),
            "row 2, column last_activity_on: the last activity date is empty; every case needs one",
        ),
        (
            HK_2.replace("HK-2", ""),
            "row 2, column case_ref: the case reference is empty; every case needs one",
        ),
        (
            HK_2.replace("HK-2", "HK 2"),
            "row 2, column case_ref: a case reference is 1 to 64 letters, digits, '-', '_' or "
            "'/' (this one is not; it is not repeated here)",
        ),
        (
            HK_2.replace("early-help:EH-406|hackney-education", " | "),
            "row 2, column agencies: no agency is named; list the agencies involved",
        ),
        (
            HK_2.replace("EH-406", "EH 406"),
            "row 2, column agencies: a practitioner id of agency early-help is not an id "
            "(letters, digits, '-', '_', '.' or '/'; it is not repeated here)",
        ),
    ],
)
def test_each_wrong_value_is_named_with_its_row_and_column(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, row: str, expected: str
) -> None:
    assert refusal(write(tmp_path, HEADER, row), config, now) == [expected]


def test_the_same_case_twice_in_an_area_is_refused_but_not_across_areas(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    across = CL_1.replace("CL-1", "HK-1")
    both = with_shape(config, "city", r"(CL|HK)-\d{1,6}")
    assert set(parse(write(tmp_path, HEADER, HK_1, across), both, now)) == {"HK-1"}
    path = write(tmp_path, HEADER, HK_1, HK_2, HK_1.replace("2026-02-20", "2026-02-21"))
    assert refusal(path, config, now) == [
        "row 4, column case_ref: case 'HK-1' of area hackney is already on row 2"
    ]


def test_a_missing_required_column_is_named(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, "case_ref,area,category,agencies", "HK-1,hackney,early_help,gp")
    assert refusal(path, config, now) == [
        "row 1: the required column age_band is missing",
        "row 1: the required column last_activity_on is missing",
    ]


def test_an_unknown_column_is_refused_so_that_a_typo_loses_no_data(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER + ",last_activty", HK_2 + ",2026-01-01")
    (problem,) = refusal(path, config, now)
    assert problem.startswith("row 1, column last_activty: unknown column (check the spelling")


def test_a_column_given_twice_is_refused(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER + ",Area", HK_2 + ",hackney")
    assert refusal(path, config, now) == [
        "row 1, column Area: the column area appears twice (also as 'area')"
    ]


def test_a_value_in_a_column_without_a_heading_is_refused(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER + ",", HK_1 + ",", HK_2 + ",see notes", CL_1 + ",more notes")
    assert refusal(path, config, now) == [
        "row 3, column K: this cell is in a column without a heading: name the column or clear it"
    ]


def test_excel_turning_an_age_band_into_a_date_is_explained(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["case_ref", "area", "category", "age_band", "agencies", "last_activity_on"])
    sheet.append(["HK-1", "hackney", "early_help", dt.datetime(2026, 10, 5), "gp", "2026-01-01"])
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    assert refusal(path, config, now) == [
        "row 2, column age_band: Excel has turned this age band into a date: format the "
        "column as Text and type it again"
    ]


def test_a_file_with_several_problems_lists_them_all_with_row_and_column(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(
        tmp_path,
        HEADER,
        HK_1.replace("gp,", "surgery,"),
        HK_2,
        CL_1.replace("11-15", "teen").replace("2026-01-30", "2026-04-01"),
        HK_2.replace("early_help", "cp"),
    )
    assert refusal(path, config, now) == [
        "row 2, column agencies: unknown agency 'surgery' (expected one of: hackney-csc, "
        "city-cft, met-police, city-police, gp, health-visiting, camhs, elft, homerton, "
        "hackney-education, city-schools, probation, early-help, housing, substance-misuse, "
        "youth-justice)",
        "row 4, column age_band: unknown age band 'teen' (expected one of: 0-4, 5-10, 11-15, "
        "16-17)",
        "row 4, column last_activity_on: the date is in the future (today is 02/03/2026)",
        "row 5, column category: unknown category 'cp' (expected one of: early_help, "
        "child_in_need, child_protection, looked_after, s47_enquiry)",
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("register.csv", b"", "the file is empty"),
        ("register.csv", b"\n \n,,,\n", "the file is empty"),
        ("register.csv", HEADER.encode() + b"\n\n", "the file has a header row but no cases"),
        (
            "register.csv",
            (HEADER + "\n" + HK_2.replace("HK-2", "HK-2-café")).encode("latin-1"),
            "the file is not UTF-8 text: in Excel, save it as 'CSV UTF-8 (Comma delimited)'",
        ),
        (
            "register.pdf",
            b"%PDF-1.7",
            "files of type '.pdf' cannot be imported: export the register as CSV (.csv) or "
            "Excel (.xlsx)",
        ),
        (
            "register.xls",
            b"\xd0\xcf\x11\xe0",
            "the old Excel format (.xls) cannot be read: save the register as .xlsx or .csv",
        ),
        (
            "register.xlsx",
            b"PK\x03\x04 not really a workbook",
            "the file could not be opened as an Excel workbook (.xlsx)",
        ),
    ],
)
def test_a_file_that_cannot_be_a_register_gets_one_sentence(
    tmp_path: Path,
    config: BoardConfig,
    now: dt.datetime,
    name: str,
    content: bytes,
    expected: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert refusal(path, config, now) == [expected]


def test_a_missing_file_or_a_folder_gets_one_sentence(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    assert refusal(tmp_path / "nowhere.csv", config, now) == ["the file does not exist"]
    assert refusal(tmp_path, config, now) == ["this is a folder, not a register file"]


# --- writing the register -------------------------------------------------------------------


@pytest.mark.database
def test_an_import_adds_the_cases_with_their_agencies_and_practitioners(
    tmp_path: Path, uow: UnitOfWork, now: dt.datetime
) -> None:
    session = uow.session
    result = import_file(uow, write(tmp_path, HEADER, HK_1, HK_2, CL_1))
    session.commit()
    assert result.counts() == {
        "file": "register.csv",
        "added": 3,
        "updated": 0,
        "unchanged": 0,
        "not_in_file": 0,
    }
    assert set(result.added) == {"hackney/HK-1", "hackney/HK-2", "city/CL-1"}
    assert session.get(Agency, "met-police") is not None  # reference data came first
    case = session.scalars(select(CaseFile).where(CaseFile.reference == "HK-1")).one()
    assert case.area_id == "hackney" and case.category == "child_protection"
    assert case.flags == ["domestic_abuse", "neglect"]
    assert case.last_activity_on == dt.date(2026, 2, 20)
    assert case.created_at == now and case.updated_at == now
    assert {(i.agency_id, tuple(i.practitioner_ids)) for i in case.involvements} == {
        ("hackney-csc", ("HCS-104", "HCS-221")),
        ("met-police", ("MET-3381",)),
        ("gp", ()),
    }


@pytest.mark.database
def test_a_reimport_reports_added_updated_unchanged_and_not_in_file(
    tmp_path: Path, engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    first = write(tmp_path, HEADER, HK_1, HK_2, CL_1, name="january.csv")
    with committed(engine, config, now, "alice") as uow:
        import_file(uow, first)
    later = now + dt.timedelta(days=1)
    second = write(
        tmp_path,
        HEADER,
        HK_1.replace("met-police:MET-3381|", "").replace(",,", ",2026-02-27,"),  # closed
        CL_1,
        "HK-4,hackney,child_in_need,11-15,,hackney-csc:HCS-158|gp,,2026-02-25,,",
        name="february.csv",
    )
    with committed(engine, config, later, "bob") as uow:
        result = import_file(uow, second)
    assert result.counts() == {
        "file": "february.csv",
        "added": 1,
        "updated": 1,
        "unchanged": 1,
        "not_in_file": 1,
    }
    assert result.added == ("hackney/HK-4",) and result.updated == ("hackney/HK-1",)
    with db.transaction(engine) as session:
        hk1 = session.scalars(select(CaseFile).where(CaseFile.reference == "HK-1")).one()
        assert hk1.closed_on == dt.date(2026, 2, 27) and hk1.updated_at == later
        assert hk1.created_at == now
        assert sorted(i.agency_id for i in hk1.involvements) == ["gp", "hackney-csc"]
        hk2 = session.scalars(select(CaseFile).where(CaseFile.reference == "HK-2")).one()
        assert hk2.updated_at == now  # not in the file: left as it was
        assert len(hk2.involvements) == 2
    # the first file again: the closing date is cleared, the police come back
    with committed(engine, config, later, "bob") as uow:
        session = uow.session
        again = import_file(uow, first)
        assert again.counts()["updated"] == 1 and again.counts()["not_in_file"] == 1
        hk1 = session.scalars(select(CaseFile).where(CaseFile.reference == "HK-1")).one()
        assert hk1.closed_on is None
        assert sorted(i.agency_id for i in hk1.involvements) == ["gp", "hackney-csc", "met-police"]


@pytest.mark.database
def test_the_trail_names_every_case_added_or_updated_and_the_import_itself(
    tmp_path: Path, engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER, HK_1, HK_2)
    with committed(engine, config, now, "alice") as uow:
        import_file(uow, path)
    path = write(tmp_path, HEADER, HK_1.replace("neglect|", ""), HK_2)
    with committed(engine, config, now, "bob") as uow:
        import_file(uow, path)
    with db.transaction(engine) as session:
        ids = {c.reference: c.id for c in session.scalars(select(CaseFile))}
        events = trail(session, object_type="case_register")
        assert [(e.actor, e.action, e.object_id) for e in events] == [
            ("alice", "cases_added", "register.csv"),
            ("alice", "register_imported", "register.csv"),
            ("bob", "cases_updated", "register.csv"),
            ("bob", "register_imported", "register.csv"),
        ]
        assert events[0].details == {"cases": [
            {"id": ids["HK-1"], "area": "hackney", "reference": "HK-1"},
            {"id": ids["HK-2"], "area": "hackney", "reference": "HK-2"},
        ]}  # fmt: skip
        assert events[2].details == {"cases": [
            {"id": ids["HK-1"], "area": "hackney", "reference": "HK-1", "fields": ["flags"]},
        ]}  # fmt: skip
        assert events[3].details == {
            "file": "register.csv",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "rows": 2,
            "added": 0,
            "updated": 1,
            "unchanged": 1,
            "not_in_file": 0,
        }
        assert all(e.at == now for e in events)


@pytest.mark.database
def test_a_large_import_names_each_case_once_in_one_event_per_chunk(
    tmp_path: Path, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(register_import, "CHUNK", 2)
    rows = [HK_1.replace("HK-1", f"HK-{n}") for n in range(1, 6)]
    import_file(uow, write(tmp_path, HEADER, *rows))
    added = [e for e in trail(uow.session, object_type="case_register")
             if e.action == "cases_added"]  # fmt: skip
    assert [len(e.details["cases"]) for e in added] == [2, 2, 1]
    named = [case["reference"] for e in added for case in e.details["cases"]]
    assert named == [f"HK-{n}" for n in range(1, 6)]


@pytest.mark.database
def test_cases_the_caller_already_holds_show_the_imported_values(
    tmp_path: Path, uow: UnitOfWork
) -> None:
    import_file(uow, write(tmp_path, HEADER, HK_1))
    case = uow.session.scalars(select(CaseFile)).one()
    assert len(case.involvements) == 3
    changed = HK_1.replace("child_protection", "child_in_need").replace("|gp", "")
    import_file(uow, write(tmp_path, HEADER, changed))
    assert case.category == "child_in_need"
    assert len(case.involvements) == 2


@pytest.mark.database
def test_a_refused_import_writes_nothing_at_all(
    tmp_path: Path, engine: Engine, make_app: Callable[..., App]
) -> None:
    app = make_app()
    app.import_register(write(tmp_path, HEADER, HK_1))
    with db.transaction(engine) as session:
        before = counts(session)
    bad = write(tmp_path, HEADER, HK_1.replace("neglect", "negleckt"), HK_2, CL_1)
    with pytest.raises(ImportRejected):
        app.import_register(bad)
    with db.transaction(engine) as session:
        assert counts(session) == before
        case = session.scalars(select(CaseFile)).one()
        assert case.flags == ["domestic_abuse", "neglect"]


@pytest.mark.database
def test_a_refusal_is_raised_before_the_session_is_touched(tmp_path: Path, uow: UnitOfWork) -> None:
    session = uow.session
    bad = write(tmp_path, HEADER, HK_2.replace("5-10", "5 to 11"))
    with pytest.raises(ImportRejected):
        import_file(uow, bad)
    assert not session.new and not session.dirty
    assert counts(session) == (0, 0, 0)


@pytest.mark.database
def test_the_example_register_imports_cleanly_with_the_example_config(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    uow = make_uow(actor="demo")
    session = uow.session
    path = PROJECT / "examples" / "case_register.csv"
    result = import_file(uow, path)
    assert len(result.added) == result.rows >= 150
    query = select(CaseFile.area_id, func.count()).group_by(CaseFile.area_id)
    by_area: dict[str, int] = {area: count for area, count in session.execute(query)}
    assert by_area["hackney"] > by_area["city"] > 0


# --- the synthetic example register ------------------------------------------------------


def make_register(out: Path, *args: str) -> bytes:
    """Run the generator as documented: ``python -m examples.make_register``."""
    subprocess.run(
        [sys.executable, "-m", "examples.make_register", "--out", str(out), *args],
        cwd=PROJECT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out.read_bytes()


def test_the_generator_gives_the_same_file_for_the_same_seed(tmp_path: Path) -> None:
    first = make_register(tmp_path / "a.csv", "--cases", "300", "--seed", "5")
    assert make_register(tmp_path / "b.csv", "--cases", "300", "--seed", "5") == first
    assert make_register(tmp_path / "c.csv", "--cases", "300", "--seed", "6") != first
    assert first.count(b"\n") == 301


def test_the_example_register_looks_like_a_real_one(config: BoardConfig, now: dt.datetime) -> None:
    rows = read_register(PROJECT / "examples" / "case_register.csv", config, now=now).rows
    assert len(rows) == 200
    by_area = {area: [r for r in rows if r.area_id == area] for area in ("hackney", "city")}
    assert len(by_area["hackney"]) == 140 and len(by_area["city"]) == 60
    assert {r.category for r in rows} == {c.id for c in config.categories}
    assert {r.age_band for r in rows} == {b.id for b in config.age_bands}
    flags = [f for r in rows for f in r.flags]
    assert 0 < flags.count("live_review") < 20 and 0 < flags.count("in_court") < 30
    assert all(2 <= len(r.involvements) <= 5 for r in rows)
    auditor_ids = {pid for a in config.auditors for pid in a.practitioner_ids}
    named = [r for r in rows if any(set(people) & auditor_ids for _, people in r.involvements)]
    assert 5 <= len(named) < 100  # conflicts of interest are real, but not everywhere
    reference_date = dt.date(2026, 3, 2)
    earliest = reference_date - dt.timedelta(days=18 * 31)
    assert all(earliest <= r.last_activity_on <= reference_date for r in rows)
    audited = [r.last_audited_on for r in rows if r.last_audited_on]
    assert any(d > reference_date - dt.timedelta(days=365) for d in audited)
    text = (PROJECT / "examples" / "case_register.csv").read_text()
    assert "/20" in text and ",2025-" in text  # both date formats appear


def test_a_register_made_as_of_any_day_is_current_that_day(
    tmp_path: Path, config: BoardConfig
) -> None:
    as_of = dt.date(2026, 12, 1)
    make_register(tmp_path / "today.csv", "--as-of", as_of.isoformat())
    that_day = dt.datetime.combine(as_of, dt.time(9), tzinfo=LONDON)
    rows = read_register(tmp_path / "today.csv", config, now=that_day).rows  # no date in the future
    newest = max(r.last_activity_on for r in rows)
    assert as_of - dt.timedelta(days=31) <= newest <= as_of
    assert min(r.last_activity_on for r in rows) >= as_of - dt.timedelta(days=19 * 31)
    committed = read_register(PROJECT / "examples" / "case_register.csv", config, now=that_day)
    assert max(r.last_activity_on for r in committed.rows) <= dt.date(2026, 3, 2)
