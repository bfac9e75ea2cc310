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
