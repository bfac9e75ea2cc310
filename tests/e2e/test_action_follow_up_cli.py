"""``auditround actions follow-up`` and ``actions resend`` as the business unit types them,
and the ``follow-up-actions`` flow with the table it publishes.

Round 2026-H1 is at its briefing; on Monday 2 March 2026 two actions are made with
``actions add``, both owned by Amara Bello and due Thursday 7 May: their first reminder
falls on Wednesday 22 April.
"""

from __future__ import annotations

import json
import re

import pytest
from support.briefing_rounds import briefing_round
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.cli import app as cli
from audit_core.services.unit_of_work import UnitOfWork
from flows.follow_up_actions import follow_up_actions, follow_up_table, run_follow_up

pytestmark = pytest.mark.database
LINK = re.compile(r"https://audits\.chscp\.example\.org/action/[A-Za-z0-9_-]+")


def text_of(message: Received) -> str:
    body = message.parsed().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def run(now: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--now", now, "--as", "alice", *args])


def ok(now: str, *args: str) -> str:
    result = run(now, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def planned(uow: UnitOfWork, smtp_env: Sink) -> list[int]:
    """The two actions' ids; their owner's first emails sent and cleared from the sink."""
    briefing_round(uow)
    lessons = json.loads(ok("2026-03-02T10:00", "actions", "lessons", "--json"))
    ids = []
    for lesson in lessons[:2]:
        added = ok(
            "2026-03-02T10:00",
            "actions", "add", "--lesson", str(lesson["id"]), "--owner", "amara-bello",
            "--text", "Every plan records the child's own words.",
            "--measure", "A dip sample of ten plans shows it in eight.",
            "--due", "2026-05-07", "--json",
        )  # fmt: skip
        ids.append(json.loads(added)["action"]["id"])
    smtp_env.clear()
    return ids


def test_a_dry_run_shows_any_day_s_follow_up_and_sends_nothing(
    planned: list[int], smtp_env: Sink
) -> None:
    report = json.loads(ok("2026-04-22T08:30", "actions", "follow-up", "--dry-run", "--json"))
    steps = report["follow_up"]["reminders"]
    assert sorted((r["action_id"], r["step"]) for r in steps) == [
        (planned[0], "reminder-10"),
        (planned[1], "reminder-10"),
    ]
    assert report["dispatch"] is None and smtp_env.count == 0
    assert "link" not in json.dumps(report)  # the owners' links are in their email only
    table = ok("2026-04-22T08:30", "actions", "follow-up", "--dry-run")
    assert "Wednesday 22 April 2026: 2 follow-up steps due (2 reminders" in table


def test_the_follow_up_sends_one_email_to_the_owner_once(
    planned: list[int], smtp_env: Sink
) -> None:
    output = ok("2026-04-22T08:30", "actions", "follow-up")
    assert "2 follow-up steps taken (2 reminders, 0 escalations)" in output
    [reminder] = [m for m in smtp_env.messages if "amara.bello@example.org" in m.rcpt_tos]
    assert len(LINK.findall(text_of(reminder))) == 2
    smtp_env.clear()
    again = ok("2026-04-22T12:00", "actions", "follow-up")
    assert "0 follow-up steps taken" in again and smtp_env.count == 0
    weekend = ok("2026-04-25T08:30", "actions", "follow-up")
    assert "Saturday 25 April 2026 is a Saturday: no action is followed up today." in weekend


def test_resend_sends_a_new_link(planned: list[int], smtp_env: Sink) -> None:
    output = ok("2026-03-09T10:00", "actions", "resend", str(planned[0]))
    assert f"A new link to action {planned[0]} is on its way" in output
    [message] = smtp_env.messages
    assert "The link in earlier emails about this action no longer works" in text_of(message)
    missing = run("2026-03-09T10:00", "actions", "resend", "999")
    assert str(missing.exception) == "There is no action 999."  # main() prints it, exits 1


def test_the_flow_takes_the_day_s_steps_once(planned: list[int], smtp_env: Sink) -> None:
    report, sent = run_follow_up(now="2026-04-22T08:30")
    again, sent_again = run_follow_up(now="2026-04-22T12:00")
    assert len(report.reminders) == 2 and sent.sent == 2  # the owner's and the digest
    assert (again.taken, sent_again.attempted) == ([], 0)
    rows = follow_up_table(report)
    assert [(r["action"], r["step"], r["to"]) for r in rows] == [
        (planned[0], "reminder-10", "Amara Bello"),
        (planned[1], "reminder-10", "Amara Bello"),
    ]
    assert follow_up_actions.name == "follow-up-actions"


def test_the_flow_publishes_the_table_of_the_steps_taken(
    prefect_harness: None, planned: list[int], smtp_env: Sink
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    result = follow_up_actions(now="2026-05-08T08:30")  # the day after the due date
    assert [r["step"] for r in result["follow_up"]["reminders"]] == ["overdue", "overdue"]
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["follow-up-actions-2026-05-08"])
            )
        )
    assert artifact.type == "table"
    assert "overdue" in str(artifact.data) and "Amara Bello" in str(artifact.data)
