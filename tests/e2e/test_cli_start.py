"""The command line starts at once: help and light commands load none of the heavy parts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import CONFIG_DIR, PROJECT

HEAVY = (
    "networkx",  # assignment
    "openpyxl",  # register files
    "prefect",  # flows
    "emails",  # the mail stack
    "jinja2",
    "icalendar",
    "aiosmtpd",
    "alembic",  # migrations
    "holidays",  # the working-day calendar
    "psycopg",
)

PROBE = """
import json, sys
from audit_core.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except (SystemExit, Exception):  # a command refused (no database here) has still imported
    pass
print(json.dumps(sorted(m for m in sys.modules if "." not in m)))
"""


def loaded_by(folder: Path, *args: str) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running the command."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT),
            "AUDITROUND_CONFIG": str(CONFIG_DIR),
            "AUDITROUND_DATABASE_URL": f"sqlite:///{folder / 'empty.db'}",
        },
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("round", "--help"),
        ("outbox", "--help"),
        ("cases", "--help"),
        ("config", "check"),
    ],
)
def test_help_and_light_commands_load_no_heavy_module(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    loaded = loaded_by(tmp_path, *args)
    assert "audit_core" in loaded  # the probe really ran the command line
    assert sorted(loaded & set(HEAVY)) == []


def test_a_command_that_plans_loads_what_planning_needs(tmp_path: Path) -> None:
    # the probe does see a heavy module once one is loaded: planning needs the solver
    loaded = loaded_by(tmp_path, "round", "plan", "--focus", "think-family", "--period", "2026-H1")
    assert "networkx" in loaded
