"""A mistake a user can make gets one clear sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {key: value for key, value in os.environ.items() if key != "AUDITROUND_NOW"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "audit_core", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or PROJECT,
        timeout=120,
    )


def test_a_database_that_was_never_set_up_is_explained(tmp_path: Path) -> None:
    result = run_cli(
        "config",
        "check",
        env={"AUDITROUND_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"},
    )
    assert result.returncode == 0, result.stderr  # config check needs no database
    result = run_cli(
        "cases",
        "list",
        env={
            "AUDITROUND_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
            "AUDITROUND_CONFIG": str(PROJECT / "config"),
        },
    )
    assert result.returncode != 0
    assert "auditround db upgrade" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_wrong_now_is_explained(tmp_path: Path) -> None:
    result = run_cli("--now", "someday", "config", "check")
    assert result.returncode != 0
    assert "is not a date or time" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_wrong_now_in_the_environment_is_explained(tmp_path: Path) -> None:
    result = run_cli("config", "check", env={"AUDITROUND_NOW": "someday"})
    assert result.returncode != 0
    assert "is not a date or time" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_configuration_folder_is_explained(tmp_path: Path) -> None:
    result = run_cli("config", "check", env={"AUDITROUND_CONFIG": str(tmp_path / "nowhere")})
    assert result.returncode != 0
    assert "the configuration folder does not exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.database
def test_db_upgrade_creates_the_database_and_says_where(tmp_path: Path) -> None:
    url = os.environ.get("AUDITROUND_TEST_DATABASE_URL")
    if url:  # on PostgreSQL the shared test database is already at head: upgrading is a no-op
        result = run_cli("db", "upgrade", env={"AUDITROUND_DATABASE_URL": url})
    else:
        result = run_cli(
            "db", "upgrade", env={"AUDITROUND_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
        )
    assert result.returncode == 0, result.stderr
    assert "Database ready" in result.stdout
