"""``auditround portal``: serve the auditors' return forms and the business unit's dashboard."""

from __future__ import annotations

import typer
from rich.console import Console

from audit_core.cli.common import STATE


def portal(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="The address to listen on (this machine only by default)."
    ),
    port: int = typer.Option(8000, "--port", help="The port to listen on."),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, "
        "comma-separated (env FORWARDED_ALLOW_IPS; default this machine's own addresses).",
    ),
) -> None:
    """Serve the portal over http: the return forms (from the task emails' links) and the
    dashboard (sign in with a user of 'auditround users').

    Put it behind a reverse proxy that speaks https to the world (see docs/operations.md).
    Stops on Ctrl-C or SIGTERM, once the requests in hand are answered."""
    from audit_core.portal.server import serve

    app = STATE.app
    app.engine()  # a database not set up yet is told before the server starts
    app.config()
    Console(stderr=True).print(
        f"Portal on http://{host}:{port}/ (the dashboard at /dashboard).", highlight=False
    )
    serve(app, host, port, forwarded_allow_ips=forwarded_allow_ips)
