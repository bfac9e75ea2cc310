"""The built wheel carries its own templates: installed anywhere, it renders a task email."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from support import PROJECT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "audit_core", "flows", "templates")

RENDER = textwrap.dedent(
    """
    import datetime as dt
    from email import message_from_bytes

    import audit_core
    from audit_core.adapters.mail_render import EmailComposer
    from audit_core.adapters.templates import TEMPLATES
    from audit_core.services.ports import Letter

    letter = Letter(
        template="task",
        context={
            "board_name": "City and Hackney Safeguarding Children Partnership",
            "business_unit": {"name": "CHSCP Case Audits", "email": "a@example.org", "phone": ""},
            "round_id": "2026-H1",
            "focus_name": "Think Family",
            "audit_day_on": dt.date(2026, 4, 16),
            "case_ref": "HK-000123",
            "area_name": "Hackney",
            "agency_name": "Hackney Children and Families Service",
            "due_on": dt.date(2026, 3, 31),
            "auditor_name": "Amara Bello",
            "link": "https://audits.example.org/return/token",
            "audit_tool_name": "Multi-agency case file audit",
            "sections": ["Voice of the child"],
        },
        to=[("Amara Bello", "amara.bello@example.org")],
    )
    composed = EmailComposer(installation="wheel-test").compose(
        letter,
        dedupe_key="task:1",
        mail_from="audits@example.org",
        date=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC),
    )
    print(audit_core.__file__)
    print(TEMPLATES)
    print(message_from_bytes(composed.raw)["Subject"])
    """
)


def test_an_installed_wheel_renders_a_task_email_from_its_own_templates(tmp_path: Path) -> None:
    source = tmp_path / "source"  # the build writes beside its sources: never in the checkout
    source.mkdir()
    for name in SOURCES:
        if (PROJECT / name).is_dir():
            shutil.copytree(
                PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(PROJECT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("auditround-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            site,
            str(wheel),
        ],
        check=True,
    )
    # The wheel's dependencies come from the project's environment (its .pth files, such as
    # the editable install's, are not read from a directory listed this way).
    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    out = subprocess.run(
        [str(python), "-c", RENDER], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.splitlines()

    assert Path(out[0]).is_relative_to(site)  # the installed package, not the checkout
    assert Path(out[1]).is_relative_to(site)  # and its own templates
    assert out[2] == "Case audit 2026-H1: HK-000123 (Think Family) - due Tue 31 Mar"
