"""Sign-in for the business unit: server-side sessions, roles and CSRF tokens.

The interface the dashboard uses (its routes take these as FastAPI dependencies):

- :class:`SignedIn`: who is signed in, their role and their session's CSRF token;
- :func:`signed_in`: the signed-in user, or a redirect to ``/sign-in``;
- :func:`coordinator`: the same, refused with 403 for a read-only QA member;
- :func:`check_csrf`: a POST's hidden ``csrf_token`` field must match the session's.

The session cookie (``auditround_session``) holds a random id whose hash is the
session's key (:mod:`audit_core.services.portal_sessions`). It is ``HttpOnly``,
``SameSite=Lax`` and ``Secure`` except on this machine's own address (a browser
there may use plain http). Before there is a session, the sign-in form is guarded
by a double-submit token: a random value in a cookie of its own, and in the form
its HMAC under the installation's key (:meth:`App.portal_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from audit_core.portal.security import Throttle
from audit_core.portal.web import application, page
from audit_core.services import portal_sessions, users
from audit_core.services.unit_of_work import UnitOfWork

router = APIRouter()
log = logging.getLogger(__name__)

SESSION_COOKIE = "auditround_session"
FORM_COOKIE = "auditround_sign_in"  # the sign-in form's double-submit value
FORM_COOKIE_SECONDS = 60 * 60
HOME = "/dashboard"
CACHED = "auditround.signed_in"  # the request's user, once looked up
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WRONG = "The user name or password is not right"
EXPIRED = "The page had expired: enter your user name and password again"
TOO_MANY = "Too many wrong passwords were tried from here: wait a minute, then try again."


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    name: str
    role: str  # "coordinator" | "qa"
    csrf_token: str

    @property
    def can_change(self) -> bool:
        return self.role == "coordinator"

    @property
    def actor(self) -> str:
        """Who acts, for the audit trail."""
        return portal_actor(self.user_id)


def portal_actor(user_id: str) -> str:
    """Who the audit trail names for a dashboard user's reads and changes."""
    return f"portal:{user_id}"


def signed_in(request: Request) -> SignedIn:
    """The user signed in on this request; a browser that is not signed in is sent to
    ``/sign-in`` (with the page it asked for, to come back to)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(status_code=303, headers={"Location": _sign_in_url(request)})
    return user


def coordinator(request: Request) -> SignedIn:
    """The signed-in user, who must be a coordinator."""
    user = signed_in(request)
    if not user.can_change:
        raise HTTPException(status_code=403, detail="Your role can read the dashboard only.")
    return user


def check_csrf(user: SignedIn, token: str) -> None:
    """Refuse a POST whose CSRF token is not the session's."""
    if not token or not hmac.compare_digest(user.csrf_token.encode(), token.encode()):
        raise HTTPException(status_code=403, detail="The form has expired: open the page again.")


async def checked_form(request: Request, user: SignedIn, most_fields: int = 1000) -> dict[str, str]:
    """A dashboard form's text fields, once its CSRF token is checked (at most
    ``most_fields`` fields: a form beyond that is refused)."""
    form = await request.form(max_fields=most_fields)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(user, fields.get("csrf_token", ""))
    return fields


def current_user(request: Request) -> SignedIn | None:
    """The live session's user, or None (looked up once per request)."""
    if CACHED in request.scope:
        found: SignedIn | None = request.scope[CACHED]
        return found
    cookie = request.cookies.get(SESSION_COOKIE, "")
    user = None
    if cookie:
        with application(request).unit_of_work() as uow:
            live = portal_sessions.find_session(uow, cookie)
        if live is not None:
            user = SignedIn(live.user_id, live.name, live.role, live.csrf_token)
    request.scope[CACHED] = user
    return user


# --- the pages ---------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "", out: str = "") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next=next, signed_out=bool(out))


@router.post("/sign-in")
def sign_in(
    request: Request,
    user_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    throttle: Throttle = request.app.state.sign_in_throttle
    client = request.client.host if request.client else "unknown"
    if throttle.blocked("sign-in", client):
        raise HTTPException(status_code=429, detail=TOO_MANY)
    if not _form_token_ok(request, csrf_token):
        return _form(request, next=next, user_name=user_name, error=EXPIRED, status=403)
    app = application(request)
    with app.unit_of_work() as uow:
        user = users.authenticate(uow, app.passwords(), user_name, password)
        if user is not None:
            uow.actor = portal_actor(user.id)
            portal_sessions.purge_expired(uow)
            _drop_old_session(request, uow)
            cookie, _ = portal_sessions.start_session(uow, user)
    if user is None:
        throttle.failed("sign-in", client)
        log.warning("sign-in refused from %s", client)
        return _form(request, next=next, user_name=user_name, error=WRONG, status=400)
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, cookie, path="/")
    response.delete_cookie(FORM_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = signed_in(request)
    check_csrf(user, csrf_token)
    with application(request).unit_of_work(actor=user.actor) as uow:
        portal_sessions.end_session(uow, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/sign-in?out=1", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="lax"
    )
    return response


# --- the parts ---------------------------------------------------------------------------


def safe_next(target: str) -> str:
    """Where to go after sign-in: a page of the dashboard on this site, else its home."""
    if (
        (target == HOME or target.startswith((HOME + "/", HOME + "?")))
        and len(target) <= 2000
        and target.isascii()
        and target.isprintable()
        and "\\" not in target
    ):
        return target
    return HOME


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure unless the browser reached this machine by plain http."""
    return request.url.scheme == "https" or request.url.hostname not in LOCAL_HOSTS


def _sign_in_url(request: Request) -> str:
    """``/sign-in``, with the dashboard page asked for (a form posted comes back to none:
    its page is opened again from the dashboard)."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or safe_next(asked) != asked or asked == HOME:
        return "/sign-in"
    return "/sign-in?" + urlencode({"next": asked})


def _form(
    request: Request,
    *,
    next: str,
    user_name: str = "",
    error: str = "",
    status: int = 200,
    signed_out: bool = False,
) -> Response:
    """The sign-in form, with a fresh pair of double-submit values (or the pair kept)."""
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not _nonce_ok(nonce):
        nonce = secrets.token_urlsafe(32)
    context = {
        "title": "Sign in",
        "errors": [error] if error else [],
        "user_name": user_name.strip()[:64],
        "next": safe_next(next),
        "csrf_token": _form_token(application(request).portal_key(), nonce),
        "signed_out": signed_out and not error,
    }
    response = page(request, "sign_in.html.j2", context, status_code=status)
    _set_cookie(request, response, FORM_COOKIE, nonce, path="/sign-in", max_age=FORM_COOKIE_SECONDS)
    return response


def _form_token(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"sign-in:" + nonce.encode(), hashlib.sha256).hexdigest()


def _nonce_ok(nonce: str) -> bool:
    return 20 <= len(nonce) <= 64 and nonce.isascii() and nonce.isprintable()


def _form_token_ok(request: Request, token: str) -> bool:
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not _nonce_ok(nonce) or not token:
        return False
    expected = _form_token(application(request).portal_key(), nonce)
    return hmac.compare_digest(expected.encode(), token.encode())


def _drop_old_session(request: Request, uow: UnitOfWork) -> None:
    """A session already in this browser ends as a new one starts (no fixation)."""
    old = request.cookies.get(SESSION_COOKIE, "")
    if old:
        portal_sessions.end_session(uow, old)


def _set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )
