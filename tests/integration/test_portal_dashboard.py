"""The business unit's dashboard, as a coordinator and a QA member see it: the rounds, a
round's progress by agency and by auditor, one audit and its return, the coordinator's
changes (reassign, extend, reopen, a new link) and the progress as CSV and Excel.

Every test starts from the example round launched and delivered on Monday 2 March 2026,
then set up as the fieldwork weeks would leave it, and looked at on Tuesday 31 March,
the day after the round's deadline:

- CT-00042 city-cft (Eleanor Ashdown): submitted;
- CT-00042 city-police (Oliver Pemberton): declined, with a reason that looks like a
  spreadsheet formula;
- HK-00123 hackney-csc (Amara Bello): a draft with a ``<script>`` in it, its deadline
  extended to Wednesday 8 April;
- HK-00123 met-police (Sarah Chukwuma): opened, never saved: overdue;
- HK-00456 health-visiting (Fatima El-Amin): escalated to the agency lead;
- HK-00123 gp and HK-00456 housing: unfilled.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support import LONDON
from support.rounds import PUBLIC_URL, delivered_round
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain import tokens
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditReturn,
    AuditRound,
    CaseFile,
    ChaseRecord,
    OutboxMessage,
    ReturnStatus,
    RoundCase,
)
from audit_core.domain.policy import BoardConfig
from audit_core.portal.app import create_app
from audit_core.portal.auth import SignedIn, coordinator, signed_in
from audit_core.services import deadlines, fieldwork
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ROUND = "2026-H1"
TODAY = dt.datetime(2026, 3, 31, 10, 0, tzinfo=LONDON)  # the day after the deadline
SCRIPT = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
CORA = SignedIn("cora", "Cora Coordinator", "coordinator", "tok")
QUINN = SignedIn("quinn", "Quinn Ashworth", "qa", "tok")
LINK = re.compile(re.escape(PUBLIC_URL) + r"/return/([A-Za-z0-9_-]+)")


class Clock:
    """The App's clock, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock(now: dt.datetime) -> Clock:
    return Clock(now)


@pytest.fixture
def portal_app(
    engine: Engine, config: BoardConfig, mail_settings: SmtpSettings, clock: Clock
) -> App:
    return App(config=config, engine=engine, smtp=mail_settings, clock=clock)


def assignment(session: Session, case_ref: str, agency_id: str) -> Assignment:
    return session.scalars(
        select(Assignment)
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .join(CaseFile, CaseFile.id == RoundCase.case_id)
        .where(CaseFile.reference == case_ref, Assignment.agency_id == agency_id)
    ).one()


def fresh(session: Session, case_ref: str, agency_id: str) -> Assignment:
    """The assignment as the database has it now (after the portal changed it)."""
    session.expire_all()
    return assignment(session, case_ref, agency_id)


def a_return(config: BoardConfig, target: Assignment, status: str, **fields: object) -> AuditReturn:
    theme = config.themes[0].id
    at = dt.datetime(2026, 3, 20, 12, 0, tzinfo=LONDON)
    values: dict[str, object] = {
        "answers": {
            "recognition": {
                "grade": "good",
                "good_practice": f"Early help offered. {SCRIPT}",
                "development": "",
                "recommendations": "",
            }
        },
        "strengths": [{"theme": theme, "key_phrase": "joint visit", "text": "Seen together."}],
        "lessons": [],
        "immediate_concern": False,
        "concern_text": None,
        **fields,
    }
    return AuditReturn(
        assignment_id=target.id,
        audit_tool_id=config.audit_tool.id,
        audit_tool_version=config.audit_tool.version,
        status=status,
        submitted_at=at if status == ReturnStatus.SUBMITTED else None,
        updated_at=at,
        **values,
    )


@pytest.fixture
def fieldwork_weeks(
    uow: UnitOfWork, portal_app: App, sink: Sink, config: BoardConfig, clock: Clock
) -> list[Received]:
    """The example round as the module's docstring describes it; the clock on 31 March.
    The task emails delivered at launch are returned."""
    delivered = delivered_round(uow, portal_app, sink)
    session = uow.session
    submitted = assignment(session, "CT-00042", "city-cft")
    session.add(a_return(config, submitted, ReturnStatus.SUBMITTED))
    submitted.submit(uow.now)
    fieldwork.decline(
        uow, round_id=ROUND, case_ref="CT-00042", agency_id="city-police", reason=FORMULA
    )
    draft = assignment(session, "HK-00123", "hackney-csc")
    session.add(
        a_return(config, draft, ReturnStatus.DRAFT, immediate_concern=True, concern_text=SCRIPT)
    )
    deadlines.extend(
        uow,
        round_id=ROUND,
        to=dt.date(2026, 4, 8),
        reason="leave",
        case_ref="HK-00123",
        agency_id="hackney-csc",
    )
    assignment(session, "HK-00123", "met-police").opened_at = uow.now
    escalated = assignment(session, "HK-00456", "health-visiting")
    session.add(
        ChaseRecord(
            assignment_id=escalated.id,
            task_number=escalated.task_number,
            due_on=escalated.due_on,
            step="escalation-1",
            recipient="lead@example.org",
            taken_on=dt.date(2026, 3, 31),
            taken_at=TODAY,
        )
    )
    session.commit()
    session.close()
    clock.at = TODAY
    sink.clear()
    return delivered


def portal(app: App, user: SignedIn | None = CORA) -> TestClient:
    """The portal with ``user`` signed in (a QA member is refused the coordinator's routes)."""
    web: FastAPI = create_app(app)
    if user is not None:
        web.dependency_overrides[signed_in] = lambda: user
        web.dependency_overrides[coordinator] = _coordinator(user)
    return TestClient(web, follow_redirects=False)


def _coordinator(user: SignedIn) -> Callable[[], SignedIn]:
    def only_coordinators() -> SignedIn:
        if not user.can_change:
            raise HTTPException(status_code=403, detail="Your role can read the dashboard only.")
        return user

    return only_coordinators


def audit_path(session: Session, case_ref: str, agency_id: str) -> str:
    found = fresh(session, case_ref, agency_id)
    session.rollback()
    return f"/dashboard/rounds/{ROUND}/returns/{found.id}"


def count_of(page: httpx.Response, state: str) -> int:
    found = re.search(rf'<td id="count-{state}">(\d+)</td>', page.text)
    assert found, f"no count of {state}"
    return int(found.group(1))


def row_of(page: httpx.Response, case_ref: str, agency_name: str) -> str:
    """The row of one audit in the agency's table on the progress page."""
    tables = re.findall(r"<table>.*?</table>", page.text, re.S)
    table = next(t for t in tables if f"<caption>{agency_name}" in t)
    return next(r for r in re.findall(r"<tr>.*?</tr>", table, re.S) if case_ref in r)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


def token_in(text: str) -> str:
    found = LINK.search(text)
    assert found is not None, "no secure link"
    return found.group(1)


def outbox_text(session: Session, dedupe_key: str) -> tuple[OutboxMessage, str]:
    session.expire_all()
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).one()
    parsed = message_from_bytes(message.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return message, text_of(parsed)


def post(browser: TestClient, path: str, **data: str) -> httpx.Response:
    return browser.post(path, data={"csrf_token": "tok", **data})


# --- reading ----------------------------------------------------------------------------


def test_the_progress_page_shows_each_audit_s_state_and_the_counts(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    page = portal(portal_app).get(f"/dashboard/rounds/{ROUND}")
    assert page.status_code == 200
    expected = {"submitted": 1, "declined": 1, "draft": 1, "overdue": 1, "escalated": 1}
    for state in ("queued", "sent", "opened", "failed", "assigned"):
        expected[state] = 0
    expected["unfilled"] = 2
    assert {state: count_of(page, state) for state in expected} == expected
    overdue = row_of(page, "HK-00123", "Metropolitan Police")
    assert '<span class="tag overdue">overdue</span>' in overdue
    assert "Overdue reminder, Tuesday 31 March 2026" in overdue
    draft = row_of(page, "HK-00123", "Hackney Children")
    assert '<span class="tag draft">draft</span>' in draft
    assert "Wednesday 8 April 2026" in draft  # its own, extended, deadline
    assert "Reminder, 5 working days before, Tuesday 31 March 2026" in draft
    assert '<span class="tag escalated">escalated</span>' in row_of(page, "HK-00456", "Health")
    submitted = row_of(page, "CT-00042", "City of London Children")
    assert '<span class="tag submitted">submitted</span>' in submitted
    assert "<caption>Each auditor's audits in this round</caption>" in page.text
    assert '<th scope="row">Eleanor Ashdown</th>' in page.text
    assert '<th scope="col">Next chase step</th>' in page.text


def test_a_task_email_refused_for_good_shows_failed_before_overdue(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    late = fresh(session, "HK-00123", "met-police")
    message, _ = outbox_text(session, late.task_key)
    message.status = "failed"
    session.commit()
    page = portal(portal_app).get(f"/dashboard/rounds/{ROUND}")
    assert count_of(page, "failed") == 1 and count_of(page, "overdue") == 0
    assert '<span class="tag failed">failed</span>' in row_of(page, "HK-00123", "Metropolitan")


def test_the_rounds_list_links_each_round_with_its_counts(
    fieldwork_weeks: list[Received], portal_app: App
) -> None:
    page = portal(portal_app).get("/dashboard")
    assert page.status_code == 200
    assert f'<a href="/dashboard/rounds/{ROUND}">{ROUND}</a>' in page.text
    assert '<span class="tag overdue">overdue</span> 1' in page.text


def test_reading_a_return_shows_it_as_text_and_is_kept_in_the_audit_trail(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    path = audit_path(session, "HK-00123", "hackney-csc")
    page = portal(portal_app).get(path)
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "Early help offered. &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "Immediate safeguarding concern" in page.text
    assert "Recognition of need and risk" in page.text and "Good" in page.text
    session.expire_all()
    reads = [e for e in events(session) if e.action == "return_read"]
    assert len(reads) == 1
    assert reads[0].actor == "portal:cora" and reads[0].round_id == ROUND
    assert reads[0].details["case_ref"] == "HK-00123"


def test_an_audit_without_a_return_is_shown_and_no_read_is_recorded(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    page = portal(portal_app).get(audit_path(session, "HK-00123", "met-police"))
    assert page.status_code == 200 and "No return has been saved yet." in page.text
    session.expire_all()
    assert not [e for e in events(session) if e.action == "return_read"]


def test_a_wrong_round_or_audit_is_the_plain_404(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    assert browser.get("/dashboard/rounds/2031-H2").status_code == 404
    assert browser.get("/dashboard/rounds/nonsense").status_code == 404
    assert browser.get(f"/dashboard/rounds/{ROUND}/returns/99999").status_code == 404
    assert browser.get(f"/dashboard/rounds/{ROUND}/returns/abc").status_code == 404
    other = audit_path(session, "HK-00123", "met-police").replace(ROUND, "2026-H2")
    assert browser.get(other).status_code == 404


def test_without_sign_in_the_dashboard_sends_the_browser_to_sign_in(
    fieldwork_weeks: list[Received], portal_app: App
) -> None:
    page = portal(portal_app, user=None).get(f"/dashboard/rounds/{ROUND}")
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")


# --- the exports ------------------------------------------------------------------------------


def test_the_csv_export_keeps_typed_text_plain_and_defuses_formulas(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    answer = portal(portal_app).get(f"/dashboard/rounds/{ROUND}/progress.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Round", "Case reference", "Area", "Agency", "Auditor", "State"]
    assert len(rows) == 1 + 7
    cells = [cell for row in rows for cell in row]
    assert SCRIPT in cells  # the concern, exactly as typed: a CSV holds no markup
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    session.expire_all()
    assert [e.details["format"] for e in events(session) if e.action == "progress_exported"] == [
        "csv"
    ]


def test_the_excel_export_holds_only_text_cells(
    fieldwork_weeks: list[Received], portal_app: App
) -> None:
    answer = portal(portal_app).get(f"/dashboard/rounds/{ROUND}/progress.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert {cell.data_type for cell in cells} == {"s"}  # no formula, no number
    values = [cell.value for cell in cells]
    assert SCRIPT in values and "'" + FORMULA in values
    assert sheet.max_row == 1 + 7


# --- the coordinator's changes ------------------------------------------------------------------


def test_a_coordinator_reassigns_to_an_eligible_auditor_and_is_told_so(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    path = audit_path(session, "HK-00123", "met-police")
    page = browser.get(path)
    assert '<option value="daniel-costa">' in page.text
    assert '<option value="amara-bello">' not in page.text  # another agency's auditor
    answer = post(browser, path + "/reassign", auditor_id="daniel-costa")
    assert answer.status_code == 303 and answer.headers["location"] == path + "?done=reassigned"
    shown = browser.get(answer.headers["location"])
    assert "The audit was given to the new auditor" in shown.text
    moved = fresh(session, "HK-00123", "met-police")
    assert moved.auditor_id == "daniel-costa" and moved.status == AssignmentStatus.ISSUED
    _, text = outbox_text(session, moved.task_key)
    assert "Dear DS Daniel Costa" in text


def test_a_refused_change_is_shown_on_the_page_not_as_a_server_error(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    path = audit_path(session, "HK-00123", "met-police")
    answer = post(browser, path + "/reassign", auditor_id="amara-bello")
    assert answer.status_code == 400
    assert "Nothing was changed" in answer.text and "amara-bello cannot audit" in answer.text
    answer = post(browser, path + "/extend", due_on="2026-04-04", reason="leave")
    assert answer.status_code == 400 and "a Saturday" in answer.text
    answer = post(browser, path + "/extend", due_on="next week", reason="leave")
    assert answer.status_code == 400 and "Enter the new deadline as a date" in answer.text
    assert fresh(session, "HK-00123", "met-police").auditor_id == "sarah-chukwuma"


def test_a_coordinator_extends_a_deadline(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    path = audit_path(session, "HK-00123", "met-police")
    answer = post(browser, path + "/extend", due_on="2026-04-09", reason="sick leave")
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=extended")
    moved = fresh(session, "HK-00123", "met-police")
    assert moved.due_on == dt.date(2026, 4, 9)
    _, text = outbox_text(session, f"extended:{moved.id}:2026-04-09")
    assert "Thursday 9 April 2026" in text or "9 April 2026" in text
    page = browser.get(f"/dashboard/rounds/{ROUND}")
    assert count_of(page, "overdue") == 0 and count_of(page, "opened") == 1


def test_a_new_link_retires_the_old_one_and_goes_through_the_outbox(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    to_amara = [r.parsed() for r in fieldwork_weeks if "amara.bello@example.org" in r.rcpt_tos]
    old_token = token_in(text_of(to_amara[0]))
    held = fresh(session, "HK-00123", "hackney-csc")
    old_hash, old_key = held.token_hash, held.task_key
    assert old_hash == tokens.hash_token(old_token)
    browser = portal(portal_app)
    path = audit_path(session, "HK-00123", "hackney-csc")
    answer = post(browser, path + "/resend")
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=resent")
    held = fresh(session, "HK-00123", "hackney-csc")
    assert held.token_hash != old_hash and held.task_key != old_key
    assert session.scalars(select(Assignment).where(Assignment.token_hash == old_hash)).all() == []
    message, text = outbox_text(session, held.task_key)
    assert message.kind == "task" and message.status == "queued"
    new_token = token_in(text)
    assert tokens.hash_token(new_token) == held.token_hash
    session.rollback()
    assert browser.get(f"/return/{old_token}").status_code == 404
    assert browser.get(f"/return/{new_token}").status_code == 200
    retired = [e for e in events(session) if e.action == "link_retired"]
    assert retired[-1].actor == "portal:cora" and retired[-1].details["task"] == old_key


def test_a_return_is_reopened_only_once_the_round_is_in_moderation(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    path = audit_path(session, "CT-00042", "city-cft")
    assert "Reopen the return" not in browser.get(path).text
    early = post(browser, path + "/reopen", reason="grade to check")
    assert early.status_code == 400
    assert "reopened only once the round has moved to moderation" in early.text
    session.get(AuditRound, ROUND).start_moderation()  # type: ignore[union-attr]
    session.commit()
    assert "Reopen the return" in browser.get(path).text
    answer = post(browser, path + "/reopen", reason="grade to check")
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=reopened")
    assert "The return was reopened" in browser.get(answer.headers["location"]).text
    held = fresh(session, "CT-00042", "city-cft")
    stored = session.scalars(select(AuditReturn).where(AuditReturn.assignment_id == held.id)).one()
    assert stored.status == ReturnStatus.DRAFT and stored.reopened_by == "portal:cora"
    assert stored.reopened_at is not None and held.status == AssignmentStatus.ISSUED
    message, text = outbox_text(session, held.task_key)
    assert message.kind == "reopened" and message.recipients == ["eleanor.ashdown@example.org"]
    assert "has reopened your return for case CT-00042" in text
    token = token_in(text)
    assert tokens.hash_token(token) == held.token_hash
    assert "grade to check" not in text  # the reason stays in the audit trail
    session.rollback()
    form = browser.get(f"/return/{token}")
    assert form.status_code == 200 and 'name="grade-recognition"' in form.text
    again = post(browser, path + "/reopen", reason="once more")
    assert again.status_code == 400 and "is not submitted" in again.text
    assert post(browser, path + "/resend").status_code == 303  # a reopened return's link
    closed = post(browser, audit_path(session, "HK-00123", "met-police") + "/resend")
    assert closed.status_code == 400 and "only while the round is open" in closed.text


# --- who may change what ---------------------------------------------------------------------


def test_a_qa_member_reads_the_pages_without_forms_and_is_refused_every_change(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app, QUINN)
    path = audit_path(session, "HK-00123", "met-police")
    page = browser.get(path)
    assert page.status_code == 200 and "Sarah Chukwuma" in page.text
    assert "/reassign" not in page.text and "/extend" not in page.text
    assert "/resend" not in page.text and "Change this audit" not in page.text
    for action, data in (
        ("reassign", {"auditor_id": "daniel-costa"}),
        ("extend", {"due_on": "2026-04-09", "reason": "leave"}),
        ("reopen", {"reason": "check"}),
        ("resend", {}),
    ):
        assert post(browser, f"{path}/{action}", **data).status_code == 403
    assert fresh(session, "HK-00123", "met-police").auditor_id == "sarah-chukwuma"


def test_a_post_without_the_session_s_csrf_token_is_refused(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    browser = portal(portal_app)
    path = audit_path(session, "HK-00123", "hackney-csc")
    before = fresh(session, "HK-00123", "hackney-csc").token_hash
    assert browser.post(path + "/resend", data={"csrf_token": "forged"}).status_code == 403
    assert browser.post(path + "/resend", data={}).status_code == 403
    assert fresh(session, "HK-00123", "hackney-csc").token_hash == before
    assert 'name="csrf_token" value="tok"' in browser.get(path).text


def test_a_return_whose_words_were_purged_says_so(
    fieldwork_weeks: list[Received], portal_app: App, session: Session
) -> None:
    audit_round = session.get(AuditRound, ROUND)
    assert audit_round is not None
    audit_round.purged_at = dt.datetime(2028, 6, 12, 5, 30, tzinfo=dt.UTC)
    session.commit()

    page = portal(portal_app).get(audit_path(session, "HK-00123", "hackney-csc"))

    assert page.status_code == 200
    assert "The words of this round's returns were purged on Monday 12 June 2028" in page.text
