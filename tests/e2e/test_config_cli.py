"""``auditround config check``: a summary when all is well, every problem when not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit_core.cli import app

PROJECT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT / "config"
AUDITROUND = Path(sys.executable).parent / "auditround"

runner = CliRunner()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the example configuration with two mistakes in two files."""
    root = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, root)
    people = root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("agency: city-police", "agency: city-polise", 1),
        encoding="utf-8",
    )
    tool = root / "audit_tool.yaml"
    tool.write_text(
        tool.read_text(encoding="utf-8").replace("  scale: ofsted", "  scale: ofstead"),
        encoding="utf-8",
    )
    return root


def test_it_summarises_a_good_configuration() -> None:
    result = runner.invoke(app, ["--config", str(CONFIG_DIR), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "Configuration OK" in result.stdout
    assert "City & Hackney Safeguarding Children Partnership" in result.stdout
    assert "Ofsted four-point scale" in result.stdout


def test_its_json_on_a_good_configuration_can_be_parsed() -> None:
    result = runner.invoke(app, ["--config", str(CONFIG_DIR), "config", "check", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["board"] == "City & Hackney Safeguarding Children Partnership"
    assert (summary["areas"], summary["agencies"], summary["focuses"]) == (2, 16, 5)
    assert summary["auditors"] >= 37


def test_it_lists_every_problem_and_fails(broken: Path) -> None:
    result = runner.invoke(app, ["--config", str(broken), "config", "check"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "The configuration is not valid (2 problems):" in result.stderr
    assert "auditors[8].agency" in result.stderr
    assert "unknown agency 'city-polise'" in result.stderr
    assert "audit_tool.scale" in result.stderr
    assert "unknown scale 'ofstead' (expected one of: ofsted, rag)" in result.stderr
    assert str(broken / "people.yaml") in result.stderr


def test_its_json_lists_the_problems_for_a_machine(broken: Path) -> None:
    result = runner.invoke(app, ["--config", str(broken), "config", "check", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(Path(p["file"]).name, p["location"].split(" (")[0]) for p in report["problems"]] == [
        ("people.yaml", "auditors[8].agency"),
        ("audit_tool.yaml", "audit_tool.scale"),
    ]


def test_the_installed_command_explains_a_broken_configuration(
    broken: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "AUDITROUND_CONFIG": str(broken),
        "AUDITROUND_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
    }
    env.pop("AUDITROUND_NOW", None)
    result = subprocess.run(
        [str(AUDITROUND), "config", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode != 0
    assert "The configuration is not valid (2 problems):" in result.stderr
    assert "auditors[8].agency" in result.stderr
    assert "unknown scale 'ofstead'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
