"""What every page shares: the templates, the request's application, the plain 404."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from audit_core.bootstrap import App, portal_templates


def make_templates() -> Jinja2Templates:
    """The portal's templates: autoescaped (typed text stays text), undefined names an error."""
    env = Environment(
        loader=FileSystemLoader(portal_templates()),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def application(request: Request) -> App:
    """The composition root serving this request."""
    app: App = request.app.state.app
    return app


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render ``templates/portal/<name>`` for the request."""
    templates: Jinja2Templates = request.app.state.templates
    context = {"board": application(request).config().board, **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def not_found(request: Request) -> HTMLResponse:
    """The one answer to a wrong, retired or expired link: no hint of which it was."""
    return page(request, "not_found.html.j2", {"title": "Page not found"}, status_code=404)


# --- the secure links of the return form and the action page ------------------------------

FAILED_LINKS = "return-token"  # one allowance of wrong links per client, for both pages


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def link_throttled(request: Request) -> bool:
    """Whether this client has tried too many links that open nothing (answer 429)."""
    return bool(request.app.state.token_throttle.blocked(FAILED_LINKS, _client(request)))


def unknown_link(request: Request) -> HTMLResponse:
    """The plain 404 for a link that opens nothing, counted against the client's allowance."""
    request.app.state.token_throttle.failed(FAILED_LINKS, _client(request))
    return not_found(request)


def too_many_links(request: Request) -> HTMLResponse:
    return page(
        request,
        "error.html.j2",
        {
            "title": "Too many attempts",
            "detail": "Too many links were tried from here that open nothing. Wait a "
            "minute, then use the link in your email.",
        },
        status_code=429,
    )
