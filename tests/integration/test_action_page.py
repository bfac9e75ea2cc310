"""The owner's page of an action through the portal's own HTTP routes (the ASGI test client).

Round 2026-H1 is at its briefing (:mod:`support.briefing_rounds`). On Monday 2 March 2026
the business unit makes an action from its voice-of-the-child lesson, owned by Amara
Bello (Hackney Children and Families Service) and due Thursday 7 May; its email reaches
a real SMTP server on loopback, and the tests open the link it carries, as Amara would.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.briefing_rounds import briefing_round
from support.live_server import listening_socket, url_of
from support.trail import events

from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import Action, ActionUpdate, Finding, OutboxMessage
from audit_core.portal.app import create_app
from audit_core.portal.server import make_server
from audit_core.services import actions
from audit_core.services.action_links import send_link
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
LINK = re.compile(r"https://audits\.chscp\.example\.org/action/([A-Za-z0-9_-]+)")
TEXT = "Every strategy meeting records the child's own words and wishes."
MEASURE = "A dip sample of ten plans in September shows the child's words in eight."
EVIDENCE = "https://intranet.hackney.example.org/practice/voice-guide"


@dataclass(frozen=True)
class Made:
    """The action made for the test, and the token its owner's email carries."""

    id: int
    token: str

    @property
    def path(self) -> str:
        return f"/action/{self.token}"


def text_of(message: Received) -> str:
    body = message.parsed().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture
def made(uow: UnitOfWork, app: App, sink: Sink) -> Made:
    briefing_round(uow)
    lesson = uow.session.scalars(
        select(Finding).where(Finding.theme_id == "voice-of-the-child")
    ).one()
    added, sent = app.add_action(
        lesson_id=lesson.id,
        text=TEXT,
        measure=MEASURE,
        owner="amara-bello",
        due_on=dt.date(2026, 5, 7),
    )
    assert sent.sent == 1
    [message] = sink.messages
    [token] = LINK.findall(text_of(message))
    return Made(added.id, token)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="https://audits.chscp.example.org") as client:
        yield client


def stored(session: Session, action_id: int) -> Action:
    session.expire_all()  # what the portal's own transactions committed
    found = session.get(Action, action_id)
    assert found is not None
    return found


def updates(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ActionUpdate)) or 0


def record(client: TestClient, made: Made, **fields: str) -> httpx.Response:
    return client.post(made.path, data=fields, follow_redirects=False)


# --- the link's email ----------------------------------------------------------------------


def test_the_owner_s_email_gives_the_action_and_its_link_and_nothing_about_a_child(
    made: Made, sink: Sink
) -> None:
    [message] = sink.messages
    assert message.rcpt_tos == ("amara.bello@example.org",)
    subject = str(message.parsed()["Subject"])
    assert f"your action {made.id} (Voice of the child), due Thu 7 May" in subject
    text = text_of(message)
    for shown in (TEXT, MEASURE, "Voice of the child", "2026-H1", "Thursday 7 May 2026"):
        assert shown in text
    for case in ("HK-00123", "HK-00456", "CT-00042"):  # the lessons' cases
        assert case not in message.content.decode("ascii", "replace")


# --- opening the link ----------------------------------------------------------------------


def test_the_link_opens_the_action_with_where_it_came_from(client: TestClient, made: Made) -> None:
    page = client.get(made.path)
    assert page.status_code == 200
    for shown in (
        f"Action {made.id}",
        escape(TEXT),
        escape(MEASURE),
        "Voice of the child",
        escape("The children's own words were not recorded."),  # the lesson it came from
        "2026-H1 (Hackney)",
        "Amara Bello, Hackney Children and Families Service",
        "Thursday 7 May 2026",
        "Open",
        "Green",
        "No update yet.",
    ):
        assert shown in page.text, shown
    assert 'name="note"' in page.text and 'name="evidence"' in page.text
    assert 'type="file"' not in page.text and "<script" not in page.text
    assert 'value="dropped"' not in page.text  # only the business unit drops an action


def test_progress_with_evidence_is_recorded_and_listed_in_order(
    client: TestClient, made: Made, session: Session
) -> None:
    answer = record(
        client, made, status="in_progress", note="Training booked for all teams.",
        evidence=EVIDENCE,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{made.path}?recorded=1"
    page = client.get(answer.headers["location"])
    assert "Your update is recorded." in page.text
    assert f'<a href="{EVIDENCE}" rel="noopener noreferrer">{EVIDENCE}</a>' in page.text
    record(client, made, status="in_progress", note="Half the teams trained.", evidence="Register")
    page = client.get(made.path)
    first, second = page.text.index("Training booked"), page.text.index("Half the teams")
    assert first < second and "Evidence: <span" in page.text and "Register" in page.text
    assert 'value="open"' not in page.text  # begun: it cannot go back to open
    action = stored(session, made.id)
    assert action.status == "in_progress" and action.rag == "green"
    assert [(u.by, u.status, u.evidence) for u in action.updates] == [
        ("Amara Bello", "in_progress", EVIDENCE),
        ("Amara Bello", "in_progress", "Register"),
    ]
    updated = [e for e in events(session, "action") if e.action == "action_updated"]
    assert [(e.actor, e.details["to"], e.details["evidence"]) for e in updated] == [
        (f"link:action-{made.id}", "in_progress", True),
        (f"link:action-{made.id}", "in_progress", True),
    ]
    assert all("Training" not in str(e.details) for e in updated)  # never the text typed


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"status": "in_progress", "note": ""}, "note", "The note of the update is missing."),
        ({"status": "dropped", "note": "Stop."}, "status", "Choose the action's status"),
        ({"note": "Begun."}, "status", "Choose the action's status"),
        (
            {"status": "open", "note": "Begun.", "evidence": "ftp://files.example.org/plan"},
            "evidence",
            "A link must be a web address starting with https://",
        ),
        (
            {"status": "open", "note": "Begun.", "evidence": "https:// no host"},
            "evidence",
            "A link must be a web address",
        ),
        (
            {"status": "open", "note": "Begun.", "evidence": "x" * 501},
            "evidence",
            "Evidence must be 500 characters or fewer (it has 501)",
        ),
        (
            {"status": "open", "note": "Seen at E8 1DY on the visit."},
            "note",
            "This looks like it holds a postcode",
        ),
    ],
)
def test_a_value_the_form_cannot_take_is_shown_by_its_field_keeping_what_was_typed(
    client: TestClient,
    made: Made,
    session: Session,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    page = record(client, made, **fields)
    assert page.status_code == 422
    assert "There is a problem" in page.text and f'href="#{field}"' in page.text
    assert f'id="{field}-error">Error: {escape(message)}' in page.text
    for typed in (fields.get("note"), fields.get("evidence")):
        if typed and "<" not in typed:
            assert typed in page.text  # nothing typed is lost
    assert updates(session) == 0 and stored(session, made.id).status == "open"


def test_typed_markup_is_shown_as_text(client: TestClient, made: Made) -> None:
    record(client, made, status="open", note="<script>alert(1)</script> begun", evidence="<b>x</b>")
    page = client.get(made.path)
    assert "<script>alert(1)</script>" not in page.text and "<b>x</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; begun" in page.text
    record(client, made, status="open", note="Linked.", evidence="javascript:alert(1)")
    page = client.get(made.path)
    assert "javascript:alert(1)" in page.text and 'href="javascript' not in page.text


def test_a_done_action_is_read_only(client: TestClient, made: Made, session: Session) -> None:
    record(client, made, status="done", note="Every team trained.", evidence=EVIDENCE)
    page = client.get(made.path)
    assert "This action is done" in page.text and "<form" not in page.text
    assert "Every team trained." in page.text  # the updates are still there to read
    again = record(client, made, status="in_progress", note="Reopened?")
    assert again.status_code == 200 and "<form" not in again.text
    assert updates(session) == 1
    action = stored(session, made.id)
    assert action.status == "done" and action.closed_at is not None and action.chase_on is None


def test_a_dropped_action_is_read_only(
    client: TestClient, made: Made, app: App, session: Session
) -> None:
    with app.unit_of_work() as uow:
        actions.close(uow, made.id, done=False, reason="Replaced by the new neglect strategy.")
    page = client.get(made.path)
    assert "This action is dropped" in page.text and "Not rated (dropped)" in page.text
    assert "<form" not in page.text


# --- wrong links ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["nothing-like-a-token", "%C3%A9t%C3%A9", "a" * 500])
def test_a_wrong_token_gets_the_plain_404_of_any_link(
    client: TestClient, made: Made, token: str
) -> None:
    page = client.get(f"/action/{token}")
    assert page.status_code == 404
    assert page.text == client.get(f"/return/{token}").text  # the same page, no hint
    assert escape(TEXT) not in page.text
    assert record(client, Made(0, token), status="open", note="x").status_code == 404


def test_a_client_trying_many_wrong_links_is_stopped_for_a_while(
    client: TestClient, made: Made
) -> None:
    for n in range(10):
        assert client.get(f"/action/guess-{n}").status_code == 404
        assert client.get(f"/return/guess-{n}").status_code == 404  # one allowance for both
    assert client.get("/action/guess-21").status_code == 429
    assert client.post("/action/guess-22", data={"note": "x"}).status_code == 429
    assert client.get(made.path).status_code == 429  # over it, even a right link waits


def test_a_new_link_retires_the_old_one(
    client: TestClient, made: Made, app: App, sink: Sink, session: Session
) -> None:
    sink.clear()
    app.change_then_send(lambda uow: send_link(uow, made.id))
    [message] = sink.messages
    assert "The link in earlier emails about this action no longer works" in text_of(message)
    [token] = LINK.findall(text_of(message))
    assert client.get(made.path).status_code == 404
    assert client.get(f"/action/{token}").status_code == 200
    session.expire_all()
    keys = session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)).all()
    assert [k for k in keys if k.startswith("action-link:")] == [
        f"action-link:{made.id}:1",
        f"action-link:{made.id}:2",
    ]
    with app.unit_of_work() as uow:
        actions.close(uow, made.id, done=True)
    refused = pytest.raises(InvalidState, match="is done: its owner has nothing more to record")
    with refused, app.unit_of_work(mail=True) as uow:
        send_link(uow, made.id)


def test_every_answer_carries_the_security_headers(client: TestClient, made: Made) -> None:
    answers = [
        client.get(made.path),
        record(client, made, status="open", note=""),
        record(client, made, status="open", note="Begun."),
        client.get("/action/wrong"),
    ]
    for answer in answers:
        headers = answer.headers
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"  # evidence links carry no token
        assert headers["cache-control"] == "no-store"


# --- the logs ------------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_the_token_is_never_in_the_logs(app: App, made: Made) -> None:
    sock = listening_socket()
    server = make_server(app, "127.0.0.1", 0)
    caught = Lines()
    logging.getLogger().addHandler(caught)
    logging.getLogger("uvicorn.access").addHandler(caught)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=url_of(sock), trust_env=False) as browser:
            assert browser.get(made.path).status_code == 200
            bad = browser.post(made.path, data={"status": "open", "note": ""})
            assert bad.status_code == 422
            good = browser.post(made.path, data={"status": "open", "note": "Begun."})
            assert good.status_code == 303
        deadline = time.monotonic() + 5
        while len(caught.lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        logging.getLogger().removeHandler(caught)
        logging.getLogger("uvicorn.access").removeHandler(caught)
    text = "\n".join(caught.lines)
    assert len(caught.lines) >= 3, text
    assert made.token not in text
    assert "GET /action/[redacted] " in text and "POST /action/[redacted] " in text
