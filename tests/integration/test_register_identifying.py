"""Nothing that identifies a child gets into the register, and no refusal repeats it.

Files are read here; the pure checks (a heading, a value) are tested in
``tests/unit/test_privacy.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from audit_core.adapters.register_file import read_register
from audit_core.domain.errors import ImportRejected, Problem
from audit_core.domain.policy import BoardConfig

HEADER = "case_ref,area,category,age_band,flags,agencies,opened_on,last_activity_on"
ROW = "HK-1,hackney,child_in_need,5-10,neglect,hackney-csc:HCS-104|gp,2025-06-02,2026-02-02"
COLUMN = {name: i for i, name in enumerate(HEADER.split(","))}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_cell(column: str, value: str) -> str:
    cells = ROW.split(",")
    cells[COLUMN[column]] = value
    return ",".join(cells)


def problems(path: Path, config: BoardConfig, now: dt.datetime) -> list[Problem]:
    with pytest.raises(ImportRejected) as caught:
        read_register(path, config, now=now)
    return caught.value.problems


@pytest.mark.parametrize(
    ("header", "what"),
    [
        ("Name", "names"),
        ("First Name", "names"),
        ("Forename", "names"),
        ("Surname", "names"),
        ("Last name", "names"),
        ("Full name", "names"),
        ("Child name", "names"),
        ("Child's Name", "names"),
        ("Date of Birth", "dates of birth"),
        ("DOB", "dates of birth"),
        ("D.O.B.", "dates of birth"),
        ("Birth date", "dates of birth"),
        ("NHS Number", "NHS numbers"),
        ("NHS No.", "NHS numbers"),
        ("Address", "addresses"),
        ("Address Line 1", "addresses"),
        ("Street", "addresses"),
        ("Postcode", "postcodes"),
        ("Post Code", "postcodes"),
        ("UPN", "unique pupil numbers"),
        ("Unique Pupil Number", "unique pupil numbers"),
        ("NI Number", "National Insurance numbers"),
        ("National Insurance No", "National Insurance numbers"),
        ("Phone", "phone numbers"),
        ("Telephone number", "phone numbers"),
        ("Mobile", "phone numbers"),
        ("Email", "email addresses"),
        ("E-mail address", "email addresses"),
    ],
)
def test_a_column_that_identifies_a_child_is_refused_by_its_heading(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, header: str, what: str
) -> None:
    path = write(tmp_path, f"{HEADER},{header}", f"{ROW},x")
    (problem,) = problems(path, config, now)
    assert problem.location == f"row 1, column {header}"
    assert problem.reason.startswith(f"a column of {what} would identify a child")
    assert "pseudonymous case references only" in problem.reason
    assert "agency's own case system" in problem.reason


IDENTIFYING_VALUES = [
    ("9434765919", "an NHS number"),
    ("943 476 5919", "an NHS number"),
    ("943-476-5919", "an NHS number"),
    ("HK/401/023/2137", "an NHS number"),
    ("E8 1DY", "a postcode"),
    ("E8-1DY", "a postcode"),
    ("HKE81DY", "a postcode"),
    ("EC1A-1BB", "a postcode"),
    ("EC2V 7HH", "a postcode"),
    ("e81dy", "a postcode"),
    ("N16 5AB", "a postcode"),
    ("parent@example.org", "an email address"),
]
DATES_OF_BIRTH = ["HK-31122015", "31122015", "31-12-2015", "2015/12/31", "31.12.15"]


@pytest.mark.parametrize(("value", "what"), IDENTIFYING_VALUES)
@pytest.mark.parametrize(
    "column", ["case_ref", "area", "category", "age_band", "flags", "agencies", "opened_on"]
)
def test_an_identifying_value_is_refused_in_any_column_without_being_repeated(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, value: str, what: str, column: str
) -> None:
    path = write(tmp_path, HEADER, ROW.replace("HK-1", "HK-0"), with_cell(column, value))
    (problem,) = problems(path, config, now)
    assert problem.location == f"row 3, column {column}"
    assert problem.reason.startswith(f"this value looks like {what}, which could identify")
    assert "not repeated" in problem.reason
    assert_not_repeated(value, str(problem))


@pytest.mark.parametrize("value", DATES_OF_BIRTH)
@pytest.mark.parametrize("column", ["case_ref", "area", "category", "age_band", "flags"])
def test_a_date_outside_the_date_columns_is_taken_for_a_date_of_birth(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, value: str, column: str
) -> None:
    path = write(tmp_path, HEADER, ROW.replace("HK-1", "HK-0"), with_cell(column, value))
    (problem,) = problems(path, config, now)
    assert problem.location == f"row 3, column {column}"
    assert problem.reason.startswith("this value looks like a date of birth")
    assert_not_repeated(value, str(problem))


@pytest.mark.parametrize("value", ["HK-31122015", "31122015", "2015.12.31"])
def test_a_date_column_holding_a_date_in_another_form_is_told_the_forms(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, value: str
) -> None:
    path = write(tmp_path, HEADER, with_cell("opened_on", value))
    (problem,) = problems(path, config, now)
    assert problem.reason == "this is not a date: write dates as dd/mm/yyyy or yyyy-mm-dd"


def test_values_of_the_usual_shapes_pass_every_check(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    """References of six digits (HK-311215 reads as 31/12/15 too), practitioner ids and
    agency codes are not mistaken for dates, postcodes or NHS numbers."""
    rows = [
        ROW.replace("HK-1", ref).replace("HCS-104", practitioner)
        for ref, practitioner in [
            ("HK-000123", "HCS-104"),
            ("HK-204518", "HCS-2015"),
            ("HK-311215", "HCS-311215"),
            ("HK-123456", "HCS-12-03"),
            ("HK-9", "HCS-1DY"),
        ]
    ]
    path = write(tmp_path, HEADER, *rows, with_cell("agencies", "gp:GP-863|camhs:CAMHS-508"))
    parsed = read_register(path, config, now=now)
    assert len(parsed.rows) == 6


def test_every_reference_not_of_its_areas_shape_is_listed_row_by_row_unrepeated(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    wrong = ["HK-1234567", "hk-2", "CL-3", "HK4", "HK-5/1"]
    once_allowed = ["E8-1DY", "HKE81DY", "EC1A-1BB", "HK/401/023/2137", "HK-31122015"]
    path = write(
        tmp_path,
        HEADER,
        ROW,
        *(with_cell("case_ref", ref) for ref in [*wrong, *once_allowed]),
        ROW.replace("HK-1", "HK-12")
        .replace("hackney,", "city,")
        .replace("hackney-csc", "city-cft"),
    )
    found = problems(path, config, now)
    assert [p.location for p in found] == [f"row {n}, column case_ref" for n in range(3, 14)]
    shape = "this is not a case reference of {}: they have the form {} (board.yaml, "
    hackney, city = (
        shape.format("Hackney", r"^HK-\d{1,6}$"),
        shape.format("City of London", r"^CL-\d{1,6}$"),
    )
    assert [p.reason.startswith(hackney) for p in found[:5]] == [True] * 5
    assert [p.reason.split(",")[0] for p in found[5:10]] == [
        "this value looks like a postcode",
        "this value looks like a postcode",
        "this value looks like a postcode",
        "this value looks like an NHS number",
        "this value looks like a date of birth",
    ]
    assert found[10].reason.startswith(city)
    text = "\n".join(str(p) for p in found)
    for ref in [*wrong, *once_allowed]:
        assert_not_repeated(ref, text.replace(r"^HK-\d{1,6}$", ""))


@pytest.mark.parametrize(("value", "what"), IDENTIFYING_VALUES)
def test_an_identifying_value_among_the_practitioners_is_refused_without_being_repeated(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, value: str, what: str
) -> None:
    path = write(tmp_path, HEADER, with_cell("agencies", f"hackney-csc:HCS-104+{value}|gp"))
    (problem,) = problems(path, config, now)
    assert problem.location == "row 2, column agencies"
    assert problem.reason.startswith(f"this value looks like {what}")
    assert_not_repeated(value, str(problem))


@pytest.mark.parametrize("value", ["12/03/2015", "2015-03-12", "12.03.15", "HK-12-03-2015"])
def test_a_date_in_a_case_reference_or_practitioner_id_is_taken_for_a_date_of_birth(
    tmp_path: Path, config: BoardConfig, now: dt.datetime, value: str
) -> None:
    path = write(
        tmp_path,
        HEADER,
        with_cell("case_ref", value),
        with_cell("agencies", f"gp:{value}").replace("HK-1", "HK-2"),
    )
    found = problems(path, config, now)
    assert [p.location for p in found] == ["row 2, column case_ref", "row 3, column agencies"]
    for problem in found:
        assert problem.reason.startswith("this value looks like a date of birth")
        assert_not_repeated(value, str(problem))


def test_an_excel_date_cell_as_a_case_reference_is_refused(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append([dt.datetime(2015, 3, 12), *ROW.split(",")[1:]])
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    (problem,) = problems(path, config, now)
    assert problem.location == "row 2, column case_ref"
    assert problem.reason.startswith("this value looks like a date of birth")
    assert "2015" not in str(problem)


def test_an_nhs_number_typed_as_a_number_in_excel_is_refused(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append([9434765919, *ROW.split(",")[1:]])
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    (problem,) = problems(path, config, now)
    assert problem.reason.startswith("this value looks like an NHS number")
    assert_not_repeated("9434765919", str(problem))


def test_a_file_without_a_header_row_does_not_echo_its_first_case(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, "HK-1,E8 1DY,parent@example.org", "HK-2,N1 6AB,x")
    found = problems(path, config, now)
    assert found[1].location == "row 1, column B"
    assert found[1].reason.startswith("this heading looks like a postcode")
    text = "\n".join(str(p) for p in found)
    assert_not_repeated("E8 1DY", text)
    assert_not_repeated("parent@example.org", text)


def assert_not_repeated(value: str, text: str) -> None:
    """Neither the value nor its characters without spaces or punctuation appear in ``text``."""
    assert value not in text
    compact = re.sub(r"[^A-Za-z0-9]", "", value)
    assert compact.lower() not in re.sub(r"[^A-Za-z0-9]", "", text).lower()


def test_an_unknown_value_that_is_not_id_like_is_not_quoted_back(
    tmp_path: Path, config: BoardConfig, now: dt.datetime
) -> None:
    path = write(tmp_path, HEADER, with_cell("area", "Hackney Wick (east)"))
    (problem,) = problems(path, config, now)
    assert str(problem) == (
        "register.csv: row 2, column area: unknown area (expected one of: hackney, city)"
    )
