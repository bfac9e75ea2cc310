"""``auditround round reassign / decline / fill / extend`` on an open round, as a coordinator
types them: each change is sent at once, and typing it again sends nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from support.rounds import launched_round, planned_round
from support.scripted_smtp import ScriptedHandler
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.cli import app as cli
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AS_ALICE = ["--now", "2026-03-04T10:00", "--as", "alice"]
AUDITROUND = Path(sys.executable).parent / "auditround"


@pytest.fixture
def opened(uow: UnitOfWork, session: Session, smtp_env: Sink) -> Sink:
    """The example round launched on Monday 2 March and its emails delivered; the sink emptied."""
    planned_round(uow)
    launched_round(uow)
    assert run("outbox", "dispatch").exit_code == 0
    smtp_env.clear()
    return smtp_env


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, [*AS_ALICE, *args])


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.output.split())


def recipients(sink: Sink) -> list[str]:
    return sorted(address for message in sink.messages for address in message.rcpt_tos)


def test_reassign_on_an_open_round_sends_the_new_task_and_the_note_once(opened: Sink) -> None:
    args = ("round", "reassign", "2026-H1", "HK-00123", "--agency", "hackney-csc")
    output = ok(*args, "--to", "tomasz-wierzbicki")

    assert "amara-bello -> tomasz-wierzbicki" in output
    assert "The old link no longer works." in output
    assert "Sent 2," in output
    assert recipients(opened) == ["amara.bello@example.org", "tomasz.wierzbicki@example.org"]

    again = ok(*args, "--to", "tomasz-wierzbicki")
    assert "Nothing changed" in again
    assert len(opened.messages) == 2


def test_reassign_on_an_open_round_speaks_json(opened: Sink) -> None:
    result = run(
        "round", "reassign", "2026-H1", "HK-00456", "--agency", "health-visiting",
        "--to", "joanna-kaminska", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    assert (data["from"], data["to"], data["changed"]) == (
        "fatima-el-amin",
        "joanna-kaminska",
        True,
    )
    assert [key.split(":")[0] for key in data["queued"]] == ["task", "released"]
    assert data["dispatch"]["sent"] == 2


def test_decline_tells_the_business_unit_and_then_the_audit_is_reassigned(
    opened: Sink, config: BoardConfig
) -> None:
    output = ok(
        "round", "decline", "2026-H1", "HK-00123", "--agency", "met-police",
        "--reason", "Worked with the family",
    )  # fmt: skip
    assert "sarah-chukwuma declined; their link no longer works" in output
    assert "auditround round reassign 2026-H1 HK-00123 --agency met-police --to AUDITOR" in output
    assert recipients(opened) == [config.board.business_unit.email]

    again = ok(
        "round", "decline", "2026-H1", "HK-00123", "--agency", "met-police",
        "--reason", "Worked with the family",
    )  # fmt: skip
    assert "nothing changed, it is declined already" in again
    assert len(opened.messages) == 1

    ok("round", "reassign", "2026-H1", "HK-00123", "--agency", "met-police", "--to", "daniel-costa")
    assert recipients(opened) == [config.board.business_unit.email, "daniel.costa@example.org"]
    shown = json.loads(run("round", "show", "2026-H1", "--json").output)
    (line,) = [
        a
        for a in shown["assignments"]
        if a["case_ref"] == "HK-00123" and a["agency"] == "met-police"
    ]
    assert (line["auditor"], line["status"]) == ("daniel-costa", "sent")


def test_fill_gives_the_slot_to_the_nominee_and_closes_the_nomination(opened: Sink) -> None:
    output = ok("round", "fill", "2026-H1", "HK-00123", "--agency", "gp", "--to", "kofi-asamoah")
    assert "filled by kofi-asamoah; the nomination is closed." in output
    assert recipients(opened) == ["kofi.asamoah@example.org"]
    again = ok("round", "fill", "2026-H1", "HK-00123", "--agency", "gp", "--to", "kofi-asamoah")
    assert "nothing changed" in again
    assert len(opened.messages) == 1
    shown = json.loads(run("round", "show", "2026-H1", "--json").output)
    assert "HK-00123" not in {u["case_ref"] for u in shown["unfilled"]}


def test_extend_moves_the_round_and_round_show_follows(opened: Sink) -> None:
    output = ok("round", "extend", "2026-H1", "--to", "2026-04-07", "--reason", "Easter")
    assert "returns now due Tue 07/04/2026 (were due Mon 30/03/2026)" in output
    assert "7 audits moved, 5 emails to their auditors" in output
    assert len(opened.messages) == 5

    again = ok("round", "extend", "2026-H1", "--to", "2026-04-07", "--reason", "Easter")
    assert "nothing changed" in again
    assert len(opened.messages) == 5

    shown = json.loads(run("round", "show", "2026-H1", "--json").output)
    due = [row for row in shown["timeline"] if row["what"] == "returns due"]
    assert due == [{"date": "2026-04-07", "weekday": "Tuesday", "what": "returns due"}]
    assert {a["due_on"] for a in shown["assignments"]} == {"2026-04-07"}


def test_extend_one_audit_shows_its_own_date_in_round_show(opened: Sink) -> None:
    output = ok(
        "round", "extend", "2026-H1", "CT-00042", "--agency", "city-cft",
        "--to", "2026-04-08", "--reason", "On leave",
    )  # fmt: skip
    assert "case CT-00042, city-cft: returns now due Wed 08/04/2026" in output
    assert recipients(opened) == ["eleanor.ashdown@example.org"]
    table = ok("round", "show", "2026-H1")
    assert table.count("sent, due") == 1  # "sent, due 08/04/2026", wrapped in its cell
    shown = json.loads(run("round", "show", "2026-H1", "--json").output)
    dues = {(a["case_ref"], a["agency"]): a["due_on"] for a in shown["assignments"]}
    assert dues.pop(("CT-00042", "city-cft")) == "2026-04-08"
    assert set(dues.values()) == {"2026-03-30"}
    assert {"date": "2026-03-30", "weekday": "Monday", "what": "returns due"} in shown["timeline"]


def run_installed(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AUDITROUND), *AS_ALICE, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["decline", "2026-H1", "HK-00123", "--agency", "met-police", "--reason", " "],
            "Say why, for the audit trail. Use --reason TEXT.",
        ),
        (
            ["extend", "2026-H1", "HK-00123", "--to", "2026-04-07", "--reason", "x"],
            "Say whose audit of case HK-00123 is extended. Use --agency AGENCY.",
        ),
        (
            ["extend", "2026-H1", "--to", "2026-04-04", "--reason", "x"],
            "The new deadline 04/04/2026 is a Saturday: choose a working day.",
        ),
        (
            ["fill", "2026-H1", "HK-00123", "--agency", "hackney-csc", "--to", "rukhsana-begum"],
            "is not waiting for a nomination: it is issued (amara-bello).",
        ),
    ],
)
def test_a_wrong_fix_is_refused_with_one_sentence_and_changes_nothing(
    opened: Sink, tmp_path: Path, args: list[str], says: str
) -> None:
    result = run_installed("round", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert says in " ".join(result.stderr.split())
    assert "Traceback" not in result.stdout + result.stderr
    assert opened.messages == []


def test_a_fix_whose_email_is_refused_for_good_exits_3_with_the_reason(
    opened: Sink,
    monkeypatch: pytest.MonkeyPatch,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    refusing = start_sink(
        ScriptedHandler(refuse={"tomasz.wierzbicki@example.org": "550 5.1.1 no such user"})
    )
    for name, value in refusing.env().items():
        monkeypatch.setenv(name, value)

    result = run(
        "round", "reassign", "2026-H1", "HK-00123", "--agency", "hackney-csc",
        "--to", "tomasz-wierzbicki",
    )  # fmt: skip

    assert result.exit_code == 3, result.output
    assert "amara-bello -> tomasz-wierzbicki" in result.output  # the change itself is made
