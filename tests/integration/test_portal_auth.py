"""Signing in to the dashboard: sessions, cookies, CSRF, roles, the rate limit, the headers,
and an access log that never shows a link's token. The real portal over a real database."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Form
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session
from support.live_server import listening_socket, url_of

from audit_core.adapters.passwords import Argon2Passwords
from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.domain.models import AuditEvent, PortalSession
from audit_core.domain.policy import BoardConfig
from audit_core.portal.app import create_app
from audit_core.portal.auth import SESSION_COOKIE, SignedIn, check_csrf, coordinator, signed_in
from audit_core.portal.server import make_server, redact
from audit_core.services import portal_sessions, users

pytestmark = pytest.mark.database

PASSWORD = "correct horse battery staple"
LOCAL = "http://localhost"


class Clock:
    """The App's clock, moved on by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


# Routes of the tests' own, first in the table so no dashboard route shadows them.
probes = APIRouter(prefix="/dashboard/probe")


@probes.get("/who")
def who(user: SignedIn = Depends(signed_in)) -> dict[str, str]:
    return {"user": user.user_id, "role": user.role}


@probes.post("/change")
def change(
    csrf_token: Annotated[str, Form()] = "", user: SignedIn = Depends(coordinator)
) -> dict[str, str]:
    check_csrf(user, csrf_token)
    return {"changed_by": user.user_id}


@pytest.fixture
def clock(now: dt.datetime) -> Clock:
    return Clock(now)


@pytest.fixture
def portal_app(
    engine: Engine, config: BoardConfig, mail_settings: SmtpSettings, clock: Clock
) -> App:
    """The composition root over the test's database, with a clock the test moves."""
    app = App(config=config, engine=engine, smtp=mail_settings, clock=clock)
    with app.unit_of_work(actor="test") as uow:
        users.add_user(
            uow,
            app.passwords(),
            "amara-bello",
            name="Amara Bello",
            email="amara.bello@example.org",
            role="coordinator",
            password=PASSWORD,
        )
        users.add_user(
            uow,
            app.passwords(),
            "qa-member",
            name="Quinn Ashworth",
            email="quinn.ashworth@example.org",
            role="qa",
            password=PASSWORD,
        )
    return app


@pytest.fixture
def web(portal_app: App) -> FastAPI:
    web = create_app(portal_app)
    web.include_router(probes)
    ours = [r for r in web.router.routes if getattr(r, "path", "").startswith(probes.prefix)]
    for route in ours:
        web.router.routes.remove(route)
        web.router.routes.insert(0, route)
    return web


def client(web: FastAPI, base_url: str = LOCAL) -> TestClient:
    return TestClient(web, base_url=base_url, follow_redirects=False)


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(
    browser: TestClient, user: str = "amara-bello", password: str = PASSWORD, next: str = ""
) -> httpx.Response:
    token = form_token(browser.get("/sign-in"))
    data = {"user_name": user, "password": password, "csrf_token": token, "next": next}
    return browser.post("/sign-in", data=data)


def session_rows(session: Session) -> list[PortalSession]:
    session.expire_all()
    return list(session.scalars(select(PortalSession)))


def cookie_header(response: httpx.Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


# --- signing in and out ------------------------------------------------------------------


def test_the_sign_in_form_is_labelled_and_guarded(web: FastAPI) -> None:
    page = client(web).get("/sign-in")
    assert page.status_code == 200
    assert '<label for="user_name">User name</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert '<html lang="en-GB">' in page.text
    assert "There is a problem" not in page.text
    assert len(form_token(page)) == 64
    assert "HttpOnly" in cookie_header(page, "auditround_sign_in")


def test_the_right_password_signs_in_and_opens_the_page_asked_for(
    web: FastAPI, session: Session
) -> None:
    browser = client(web)
    asked = browser.get("/dashboard/probe/who?round=2026-H1")
    assert asked.status_code == 303
    location = asked.headers["location"]
    assert location == "/sign-in?next=%2Fdashboard%2Fprobe%2Fwho%3Fround%3D2026-H1"
    page = browser.get(location)
    assert 'name="next" value="/dashboard/probe/who?round=2026-H1"' in page.text
    answer = sign_in(browser, next="/dashboard/probe/who?round=2026-H1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/probe/who?round=2026-H1"
    assert browser.get(answer.headers["location"]).json() == {
        "user": "amara-bello",
        "role": "coordinator",
    }
    [row] = session_rows(session)
    assert row.user_id == "amara-bello"
    # signed in already: the form sends the browser on
    assert browser.get("/sign-in").headers["location"] == "/dashboard"


@pytest.mark.parametrize(
    "next",
    ["https://evil.example.org/dashboard", "//evil.example.org", "/return/x", "/dashboarding", ""],
)
def test_after_sign_in_only_a_dashboard_page_of_this_site_is_opened(
    web: FastAPI, next: str
) -> None:
    assert sign_in(client(web), next=next).headers["location"] == "/dashboard"


def test_a_wrong_password_or_name_gets_one_answer_that_does_not_say_which(
    web: FastAPI, session: Session
) -> None:
    browser = client(web)
    wrong_password = sign_in(browser, password="not the password at all")
    unknown_name = sign_in(browser, user="nobody-here", password="not the password at all")
    for answer in (wrong_password, unknown_name):
        assert answer.status_code == 400
        assert "There is a problem" in answer.text
        assert "The user name or password is not right" in answer.text
        assert "<title>Error: Sign in" in answer.text
        assert "not the password at all" not in answer.text  # never shown again
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    assert wrong_password.text.replace("amara-bello", "X") == unknown_name.text.replace(
        "nobody-here", "X"
    )
    assert session_rows(session) == []


class Counted(Argon2Passwords):
    """The real hasher, counting the Argon2 verifications it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        self.runs += 1
        return super().verify(password, hashed)

    def waste(self, password: str) -> None:
        self.runs += 1
        super().waste(password)


@pytest.mark.parametrize("name", ["amara-bello", "nobody-here", "Not A Name!", "qa-member"])
def test_every_sign_in_costs_one_argon2_verification(
    portal_app: App, name: str, session: Session
) -> None:
    if name == "qa-member":
        with portal_app.unit_of_work() as uow:
            users.set_active(uow, name, active=False)
    counted = Counted()
    with portal_app.unit_of_work() as uow:
        assert users.authenticate(uow, counted, name, "not the password at all") is None
    assert counted.runs == 1


def test_a_disabled_user_cannot_sign_in_and_their_sessions_end(
    web: FastAPI, portal_app: App, session: Session
) -> None:
    browser = client(web)
    assert sign_in(browser).status_code == 303
    with portal_app.unit_of_work() as uow:
        assert users.set_active(uow, "amara-bello", active=False)
    assert session_rows(session) == []
    assert browser.get("/dashboard/probe/who").status_code == 303
    assert sign_in(client(web)).status_code == 400


def test_sign_out_deletes_the_session(web: FastAPI, session: Session) -> None:
    browser = client(web)
    sign_in(browser)
    token = _session_csrf(web, browser.cookies[SESSION_COOKIE])
    refused = browser.post("/sign-out", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert len(session_rows(session)) == 1
    out = browser.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in?out=1"
    assert 'auditround_session=""' in cookie_header(out, SESSION_COOKIE)
    assert session_rows(session) == []
    assert "You have signed out." in browser.get("/sign-in?out=1").text
    assert browser.get("/dashboard/probe/who").status_code == 303


def _session_csrf(web: FastAPI, cookie: str) -> str:
    """The session's CSRF token, which the dashboard's forms carry."""
    with web.state.app.unit_of_work() as uow:
        live = portal_sessions.find_session(uow, cookie)
    assert live is not None
    return live.csrf_token


# --- the rate limit ------------------------------------------------------------------------


def test_after_five_wrong_passwords_in_a_minute_even_the_right_one_waits(
    web: FastAPI, session: Session
) -> None:
    browser = client(web)
    for _ in range(5):
        assert sign_in(browser, password="guess guess guess").status_code == 400
    blocked = sign_in(browser)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert "wait a minute" in blocked.text
    assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "")
    assert session_rows(session) == []


# --- cookies -----------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_lax_and_not_secure_on_localhost(web: FastAPI) -> None:
    header = cookie_header(sign_in(client(web)), SESSION_COOKIE).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header


@pytest.mark.parametrize("base_url", ["https://portal.example.org", "http://portal.example.org"])
def test_the_session_cookie_is_secure_anywhere_else(web: FastAPI, base_url: str) -> None:
    browser = client(web, base_url)
    answer = sign_in(browser) if base_url.startswith("https") else _sign_in_plain(browser)
    header = cookie_header(answer, SESSION_COOKIE).lower()
    assert "secure" in header and "httponly" in header and "samesite=lax" in header


def _sign_in_plain(browser: TestClient) -> httpx.Response:
    """Over plain http a client keeps no Secure cookie: hand the form's cookie back itself."""
    page = browser.get("/sign-in")
    nonce = cookie_header(page, "auditround_sign_in").split(";")[0].split("=", 1)[1]
    data = {"user_name": "amara-bello", "password": PASSWORD, "csrf_token": form_token(page)}
    return browser.post("/sign-in", data=data, headers={"cookie": f"auditround_sign_in={nonce}"})


def test_the_database_keeps_only_the_hash_of_the_cookie(
    web: FastAPI, engine: Engine, session: Session
) -> None:
    browser = client(web)
    sign_in(browser)
    cookie = browser.cookies[SESSION_COOKIE]
    assert len(cookie) == 43  # 32 random bytes
    [row] = session_rows(session)
    assert row.id_hash == hashlib.sha256(cookie.encode()).hexdigest()
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            dumped = repr(conn.execute(table.select()).all())
            assert cookie not in dumped, table.name
            assert PASSWORD not in dumped, table.name


def test_sign_in_is_in_the_audit_trail_without_secrets(web: FastAPI, session: Session) -> None:
    sign_in(client(web))
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.object_id) for e in events] == [
        ("portal_user_added", "amara-bello"),
        ("portal_user_added", "qa-member"),
        ("signed_in", "amara-bello"),
    ]
    assert events[-1].actor == "portal:amara-bello"
    assert set(events[0].details) == {"name", "email", "role"}


# --- expiry ------------------------------------------------------------------------------


def test_a_session_idle_for_thirty_minutes_has_ended(
    web: FastAPI, clock: Clock, session: Session
) -> None:
    browser = client(web)
    sign_in(browser)
    [row] = session_rows(session)
    first_seen = row.last_seen_at
    clock.advance(seconds=30)
    assert browser.get("/dashboard/probe/who").status_code == 200
    assert session_rows(session)[0].last_seen_at == first_seen  # not written every request
    clock.advance(minutes=29)
    assert browser.get("/dashboard/probe/who").status_code == 200
    [row] = session_rows(session)
    assert row.last_seen_at == clock.at
    assert row.expires_at == clock.at + dt.timedelta(minutes=30)
    clock.advance(minutes=30)
    answer = browser.get("/dashboard/probe/who")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in")
    assert session_rows(session) == []  # deleted when met


def test_a_session_ends_eight_hours_after_sign_in_however_busy(
    web: FastAPI, clock: Clock, session: Session
) -> None:
    browser = client(web)
    sign_in(browser)
    for _ in range(23):  # a request every 20 minutes: 7 h 40 min
        clock.advance(minutes=20)
        assert browser.get("/dashboard/probe/who").status_code == 200
    assert session_rows(session)[0].expires_at == clock.at + dt.timedelta(minutes=20)
    clock.advance(minutes=20)
    assert browser.get("/dashboard/probe/who").status_code == 303


def test_expired_sessions_are_purged(
    web: FastAPI, portal_app: App, clock: Clock, session: Session
) -> None:
    sign_in(client(web))
    sign_in(client(web), user="qa-member")
    clock.advance(minutes=10)
    sign_in(client(web))
    clock.advance(minutes=25)
    with portal_app.unit_of_work() as uow:
        assert portal_sessions.purge_expired(uow) == 2
    assert len(session_rows(session)) == 1


# --- CSRF and roles ----------------------------------------------------------------------


def test_a_post_without_the_session_s_csrf_token_is_refused(web: FastAPI) -> None:
    browser = client(web)
    sign_in(browser)
    csrf = _session_csrf(web, browser.cookies[SESSION_COOKIE])
    assert browser.post("/dashboard/probe/change").status_code == 403
    wrong = browser.post("/dashboard/probe/change", data={"csrf_token": "x" * len(csrf)})
    assert wrong.status_code == 403
    assert "The form has expired" in wrong.text
    right = browser.post("/dashboard/probe/change", data={"csrf_token": csrf})
    assert right.json() == {"changed_by": "amara-bello"}


def test_a_form_posted_without_a_session_is_sent_to_sign_in(web: FastAPI) -> None:
    answer = client(web).post("/dashboard/probe/change", data={"csrf_token": "x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in"


def test_the_sign_in_form_is_refused_without_its_own_token(web: FastAPI, session: Session) -> None:
    browser = client(web)
    data = {"user_name": "amara-bello", "password": PASSWORD}
    assert browser.post("/sign-in", data=data).status_code == 403  # no form cookie at all
    browser.get("/sign-in")  # the form cookie, but a token from another browser's form
    other = form_token(client(web).get("/sign-in"))
    refused = browser.post("/sign-in", data={**data, "csrf_token": other})
    assert refused.status_code == 403
    assert "The page had expired" in refused.text
    assert session_rows(session) == []


def test_a_qa_member_reads_but_is_refused_a_coordinator_s_route(web: FastAPI) -> None:
    browser = client(web)
    sign_in(browser, user="qa-member")
    assert browser.get("/dashboard/probe/who").json() == {"user": "qa-member", "role": "qa"}
    csrf = _session_csrf(web, browser.cookies[SESSION_COOKIE])
    refused = browser.post("/dashboard/probe/change", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "Your role can read the dashboard only." in refused.text


# --- headers -----------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(web: FastAPI) -> None:
    browser = client(web)
    answers = [
        browser.get("/sign-in"),
        sign_in(browser, password="not the password at all"),
        browser.get("/dashboard/probe/who"),  # a redirect
        browser.get("/no-such-page"),
        browser.get("/static/portal.css"),
        browser.post("/sign-out"),
    ]
    answers += [sign_in(browser, password="wrong wrong wrong") for _ in range(5)]  # ends at 429
    assert answers[-1].status_code == 429
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"


# --- the access log ----------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def served(portal_app: App) -> Iterator[tuple[str, Lines]]:
    """The portal as ``auditround portal`` serves it, on loopback, its access log caught."""
    sock = listening_socket()
    server = make_server(portal_app, "127.0.0.1", 0)
    caught = Lines()
    logging.getLogger("uvicorn.access").addHandler(caught)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield url_of(sock), caught
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        logging.getLogger("uvicorn.access").removeHandler(caught)


def test_the_access_log_never_shows_a_link_s_token(served: tuple[str, Lines]) -> None:
    url, caught = served
    token = "Q2hhbmdlLXRoaXMtdG9rZW4tYmVmb3JlLWl0LWxlYWtz"
    with httpx.Client(base_url=url, trust_env=False) as browser:
        browser.get(f"/return/{token}")
        browser.get(f"/return/{token}/decline?from=email")
        browser.get(f"/action/{token}")
        browser.get("/sign-in?next=/dashboard")
    deadline = time.monotonic() + 5
    while len(caught.lines) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    text = "\n".join(caught.lines)
    assert len(caught.lines) == 4, text
    assert token not in text
    assert "GET /return/[redacted] " in text
    assert "GET /return/[redacted]/decline?from=email " in text
    assert "GET /action/[redacted] " in text
    assert "GET /sign-in?next=/dashboard " in text


def test_redaction_keeps_everything_but_the_token() -> None:
    assert redact("/return/abc-_123/decline?x=1") == "/return/[redacted]/decline?x=1"
    assert redact('"GET /action/t0k3n HTTP/1.1" 200') == '"GET /action/[redacted] HTTP/1.1" 200'
    assert redact("/dashboard/returns/2026-H1") == "/dashboard/returns/2026-H1"
