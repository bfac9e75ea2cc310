"""What an assignment shows is what has really happened to its task email."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.rounds import MAIL_FROM, PUBLIC_URL, launched_round, planned_round
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import AssignmentStatus, delivery_state
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def states(uow: UnitOfWork) -> dict[str, str]:
    """Each assignment of the round as ``round show`` lists it: case/agency -> state."""
    uow.session.expire_all()
    view = show_round(uow, "2026-H1")
    return {f"{a.case_ref}/{a.agency_id}": a.status for a in view.assignments}


def test_a_task_reads_queued_until_the_server_accepts_it_then_sent(
    uow: UnitOfWork, app: App
) -> None:
    planned_round(uow)
    launched_round(uow)
    before = states(uow)
    app.dispatch()
    after = states(uow)

    assert before["HK-00123/hackney-csc"] == "queued"
    assert after["HK-00123/hackney-csc"] == "sent"
    assert before["HK-00123/gp"] == after["HK-00123/gp"] == "unfilled"


def test_a_task_refused_for_good_reads_failed(
    uow: UnitOfWork,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    launched_round(uow)
    server = start_sink(
        ScriptedHandler(refuse={"amara.bello@example.org": "550 5.1.1 no such user"})
    )
    make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()

    shown = states(uow)
    assert shown["HK-00123/hackney-csc"] == "failed"  # Amara Bello's address was refused
    assert shown["HK-00123/met-police"] == "sent"


@pytest.mark.parametrize(
    ("status", "message", "shown"),
    [
        (AssignmentStatus.ISSUED, "queued", "queued"),
        (AssignmentStatus.ISSUED, "sending", "queued"),
        (AssignmentStatus.ISSUED, "sent", "sent"),
        (AssignmentStatus.ISSUED, "failed", "failed"),
        (AssignmentStatus.ISSUED, None, "queued"),
        (AssignmentStatus.DECLINED, "sent", "declined"),
        (AssignmentStatus.ASSIGNED, None, "assigned"),
    ],
)
def test_the_state_shown_follows_the_task_email(
    status: str, message: str | None, shown: str
) -> None:
    assert delivery_state(status, message) == shown
