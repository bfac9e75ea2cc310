"""``auditround portal``: the portal served by uvicorn, with an access log that shows no token.

A return link (``/return/<token>``) and an action owner's link (``/action/<token>``)
open a form without signing in, so the token is as good as a password. The access
log writes every request's path; :class:`RedactTokens` rewrites the segment after
``/return/`` or ``/action/`` to ``[redacted]`` before any handler sees the line.

Behind a reverse proxy, uvicorn trusts ``X-Forwarded-For`` and ``X-Forwarded-Proto``
only from the addresses in ``forwarded_allow_ips`` (by default this machine's own,
or ``FORWARDED_ALLOW_IPS``): see ``docs/operations.md``.
"""

from __future__ import annotations

import logging
import re

import uvicorn

from audit_core.bootstrap import App
from audit_core.portal.app import create_app

TOKEN_PATH = re.compile(r"(/(?:return|action)/)[^/?#\s\"]+")
REDACTED = r"\1[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """``text`` with each token of a return or action link replaced by ``[redacted]``."""
    return TOKEN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites the message and its string arguments of every record through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction() -> None:
    """Put the filter on uvicorn's loggers (once), after uvicorn has configured them."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def make_server(
    app: App, host: str, port: int, *, forwarded_allow_ips: str | None = None
) -> uvicorn.Server:
    """A uvicorn server for the portal over ``app``, its access log redacted."""
    config = uvicorn.Config(
        create_app(app),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        lifespan="off",
    )
    install_redaction()  # uvicorn.Config has just set up its loggers
    return uvicorn.Server(config)


def serve(app: App, host: str, port: int, *, forwarded_allow_ips: str | None = None) -> None:
    """Serve the portal until stopped (Ctrl-C or SIGTERM)."""
    make_server(app, host, port, forwarded_allow_ips=forwarded_allow_ips).run()
