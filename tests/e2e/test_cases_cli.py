"""``auditround cases import`` and ``cases list`` as a coordinator types them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_core.cli import app

pytestmark = pytest.mark.database

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "examples" / "case_register.csv"
NOW = ["--now", "2026-03-02", "--as", "test:business-unit"]
HEADER = "case_ref,area,category,age_band,flags,agencies,opened_on,last_activity_on"
HK_1 = "HK-1,hackney,child_in_need,5-10,neglect,hackney-csc:HCS-104|gp,2025-06-02,2026-02-02"
CL_1 = "CL-1,city,early_help,0-4,,early-help|health-visiting,,02/01/2026"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, [*NOW, *args])


def write(tmp_path: Path, *lines: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_clean_failure(result: Any) -> None:
    """A refusal exits non-zero with a message and no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_import_prints_a_summary_of_what_changed(cli_env: str, tmp_path: Path) -> None:
    result = invoke("cases", "import", str(write(tmp_path, HEADER, HK_1, CL_1)))
    assert result.exit_code == 0, result.output
    assert "Register imported from register.csv (2 cases)." in result.stdout
    assert "added" in result.stdout and "not in file" in result.stdout
    assert "Added: hackney/HK-1, city/CL-1" in result.stdout
    result = invoke("cases", "import", str(write(tmp_path, HEADER, HK_1.replace("|gp", ""))))
    assert result.exit_code == 0, result.output
    assert "Updated: hackney/HK-1" in result.stdout


def test_import_speaks_json(cli_env: str, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, HK_1, CL_1)
    result = invoke("cases", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "file": "register.csv",
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "not_in_file": 0,
    }
    again = json.loads(
        invoke("cases", "import", str(write(tmp_path, HEADER, HK_1)), "--json").stdout
    )
    assert again == {
        "file": "register.csv",
        "added": 0,
        "updated": 0,
        "unchanged": 1,
        "not_in_file": 1,
    }


def test_a_refused_import_lists_every_problem_and_writes_nothing(
    cli_env: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        HEADER + ",Postcode",
        HK_1 + ",E8 1DY",
        CL_1.replace("early_help", "universal") + ",",
        HK_1.replace("HK-1", "943 476 5919") + ",",
    )
    result = invoke("cases", "import", str(path))
    assert_clean_failure(result)
    assert "register.csv was not imported; nothing was written." in result.stderr
    assert "3 problems to correct" in result.stderr  # the postcodes column is not read
    assert "row 1, column Postcode" in result.stderr
    assert "row 3, column category" in result.stderr and "unknown category" in result.stderr
    assert "row 4, column case_ref" in result.stderr and "NHS number" in result.stderr
    assert "E8 1DY" not in result.output and "943 476 5919" not in result.output
    listing = invoke("cases", "list", "--json")
    assert json.loads(listing.stdout)["total"] == 0


def test_a_refused_import_speaks_json_too(cli_env: str, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, HK_1.replace("hackney,", "hakney,"))
    result = invoke("cases", "import", str(path), "--json")
    assert_clean_failure(result)
    assert json.loads(result.stdout) == {
        "file": "register.csv",
        "imported": False,
        "problems": [
            {
                "location": "row 2, column area",
                "reason": "unknown area 'hakney' (expected one of: hackney, city)",
            }
        ],
    }


@pytest.mark.parametrize(
    ("name", "content", "sentence"),
    [
        ("missing.csv", None, "missing.csv was not imported: the file does not exist."),
        ("empty.csv", b"", "empty.csv was not imported: the file is empty."),
        (
            "header.csv",
            HEADER.encode(),
            "header.csv was not imported: the file has a header row but no cases.",
        ),
        (
            "register.docx",
            b"PK",
            "register.docx was not imported: files of type '.docx' cannot be imported",
        ),
        (
            "latin.csv",
            f"{HEADER}\nHK-1,hackney,caf\xe9".encode("latin-1"),
            "latin.csv was not imported: the file is not UTF-8 text",
        ),
    ],
)
def test_a_file_that_cannot_be_read_gets_one_clear_sentence(
    cli_env: str, tmp_path: Path, name: str, content: bytes | None, sentence: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = invoke("cases", "import", str(path))
    assert_clean_failure(result)
    assert sentence in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) <= 2


def test_list_counts_cases_by_area_and_category(cli_env: str) -> None:
    assert invoke("cases", "import", str(EXAMPLE)).exit_code == 0
    result = invoke("cases", "list")
    assert result.exit_code == 0, result.output
    assert "Cases in the register" in result.stdout
    assert "Hackney" in result.stdout and "City of London" in result.stdout
    assert "Child protection" in result.stdout
    data = json.loads(invoke("cases", "list", "--json").stdout)
    assert data["total"] == 200
    assert data["areas"]["hackney"]["total"] + data["areas"]["city"]["total"] == 200
    city = json.loads(invoke("cases", "list", "--area", "city", "--json").stdout)
    assert list(city["areas"]) == ["city"]
    assert city["total"] == data["areas"]["city"]["total"]
    assert sum(city["areas"]["city"]["categories"].values()) == city["total"]


def test_list_of_an_empty_register_says_how_to_fill_it(cli_env: str) -> None:
    result = invoke("cases", "list")
    assert result.exit_code == 0, result.output
    assert "auditround cases import" in result.stdout


def test_list_of_an_unknown_area_is_refused(cli_env: str) -> None:
    result = invoke("cases", "list", "--area", "islington")
    assert_clean_failure(result)
    assert "There is no area 'islington'" in result.stderr


def test_list_shows_the_cases_that_match_every_filter(cli_env: str) -> None:
    assert invoke("cases", "import", str(EXAMPLE)).exit_code == 0
    data = json.loads(
        invoke(
            "cases", "list", "--area", "hackney", "--category", "child_protection", "--json"
        ).stdout
    )
    assert data["cases"] and len(data["cases"]) == data["total"]
    assert data["total"] == data["areas"]["hackney"]["categories"]["child_protection"]
    assert {(c["area"], c["category"]) for c in data["cases"]} == {("hackney", "child_protection")}
    flagged = json.loads(invoke("cases", "list", "--flag", "domestic_abuse", "--json").stdout)
    assert flagged["cases"] and all("domestic_abuse" in c["flags"] for c in flagged["cases"])
    with_gp = json.loads(invoke("cases", "list", "--agency", "gp", "--json").stdout)
    assert with_gp["cases"] and all("gp" in c["agencies"] for c in with_gp["cases"])
    assert 0 < with_gp["total"] < 200


def test_a_long_list_shows_the_first_cases_and_says_how_many_more(cli_env: str) -> None:
    assert invoke("cases", "import", str(EXAMPLE)).exit_code == 0
    result = invoke("cases", "list", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "200 cases in the register" in result.stdout
    assert "... and 197 more (use --limit 0 to list them all)." in result.stdout
    limited = json.loads(invoke("cases", "list", "--limit", "3", "--json").stdout)
    assert (len(limited["cases"]), limited["total"]) == (3, 200)
    counted = json.loads(invoke("cases", "list", "--count", "--json").stdout)
    assert "cases" not in counted and counted["total"] == 200


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [("--category", "adoption", "There is no category 'adoption'"), ("--flag", "x", "no flag 'x'")],
)
def test_list_refuses_an_unknown_category_or_flag(
    cli_env: str, option: str, value: str, said: str
) -> None:
    result = invoke("cases", "list", option, value)
    assert_clean_failure(result)
    assert said in result.stderr
