"""The portal's ASGI application, made from the composition root."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from audit_core.bootstrap import App, portal_templates
from audit_core.portal import action_page, auth, dashboard, returns
from audit_core.portal.security import SecurityHeaders, Throttle
from audit_core.portal.web import make_templates, not_found, page

TOKEN_FAILURES = "20/minute"  # wrong links a client may try before it must wait
SIGN_IN_FAILURES = "5/minute"  # wrong passwords a client may try before it must wait


def create_app(app: App | None = None) -> FastAPI:
    """The portal over ``app`` (by default, the application the environment describes)."""
    web = FastAPI(title="auditround portal", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.app = app if app is not None else App.from_env()
    web.state.templates = make_templates()
    web.state.token_throttle = Throttle(TOKEN_FAILURES)
    web.state.sign_in_throttle = Throttle(SIGN_IN_FAILURES)
    web.mount("/static", StaticFiles(directory=portal_templates() / "static"), name="static")
    web.include_router(returns.router)
    web.include_router(action_page.router)
    web.include_router(auth.router)
    web.include_router(dashboard.router)

    @web.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @web.exception_handler(StarletteHTTPException)
    async def plain_errors(request: Request, exc: StarletteHTTPException) -> Response:
        if 300 <= exc.status_code < 400:  # a redirect (to sign in): its Location kept
            return Response(status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return not_found(request)
        title = {429: "Too many attempts", 405: "Not allowed"}.get(exc.status_code, "Error")
        return page(
            request,
            "error.html.j2",
            {"title": title, "detail": exc.detail if exc.status_code != 500 else ""},
            status_code=exc.status_code,
        )

    web.add_middleware(SecurityHeaders)
    return web
