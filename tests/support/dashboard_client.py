"""The dashboard through the ASGI test client, and the forms its pages post.

:func:`portal` serves the real application with a user signed in (the sign-in itself is
tested in ``test_portal_auth.py``); :func:`form_of` reads a form of a page as a browser
would post it, to send it back changed.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import httpx
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from audit_core.bootstrap import App
from audit_core.portal.app import create_app
from audit_core.portal.auth import SignedIn, coordinator, signed_in

CORA = SignedIn("cora", "Cora Coordinator", "coordinator", "tok")
QUINN = SignedIn("quinn", "Quinn Ashworth", "qa", "tok")


def portal(app: App, user: SignedIn = CORA) -> TestClient:
    """The portal with ``user`` signed in (a QA member is refused the coordinator's routes)."""
    web: FastAPI = create_app(app)
    web.dependency_overrides[signed_in] = lambda: user
    web.dependency_overrides[coordinator] = _coordinator(user)
    return TestClient(web, follow_redirects=False)


def _coordinator(user: SignedIn) -> Callable[[], SignedIn]:
    def only_coordinators() -> SignedIn:
        if not user.can_change:
            raise HTTPException(status_code=403, detail="Your role can read the dashboard only.")
        return user

    return only_coordinators


class _Form(HTMLParser):
    """What a browser would post from the form with this id: hidden and text inputs, the
    checked radios, the selected options, the textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("type", "text") in ("hidden", "text", "url", "date", "email"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio":
            self.fields.setdefault(a["name"], "")
            if "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_of(page: httpx.Response, form_id: str) -> dict[str, str]:
    parser = _Form(form_id)
    parser.feed(page.text)
    assert parser.fields, f"no form {form_id} on the page"
    return dict(parser.fields)
