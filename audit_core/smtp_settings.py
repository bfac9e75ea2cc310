"""Mail settings, read from the environment (never from the configuration files).

==============================  ==========================================================
``AUDITROUND_SMTP_HOST``        the mail server (needed to send)
``AUDITROUND_SMTP_PORT``        its port [default: 25, 587 with starttls, 465 with ssl]
``AUDITROUND_SMTP_SECURITY``    ``none``, ``starttls`` or ``ssl`` [default: starttls];
                                certificates are always verified
``AUDITROUND_SMTP_USER``        login name, if the server wants one
``AUDITROUND_SMTP_PASSWORD``    its password
``AUDITROUND_SMTP_TIMEOUT``     seconds to wait for the server [default: 30]
``AUDITROUND_MAIL_FROM``        the sender, e.g. ``CHSCP Case Audits <audits@chscp.org.uk>``
``AUDITROUND_PUBLIC_URL``       where the portal lives; every link in an email starts here
==============================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlparse

from audit_core.errors import MailError

Security = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, who the mail is from, and where links point."""

    host: str = ""
    port: int = 25
    security: Security = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    mail_from: str = ""
    public_url: str = ""

    @property
    def sender_address(self) -> str:
        """The bare address of ``mail_from`` (the SMTP envelope sender)."""
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2]

    def with_server(self, host: str, port: int, security: Security = "none") -> SmtpSettings:
        """A copy pointing at another server (a local sink, for instance)."""
        return replace(self, host=host, port=port, security=security, user="", password="")

    def check_composing(self) -> None:
        """Raise MailError unless emails can be written (a sender and a public URL)."""
        address = self.sender_address
        if not address or "@" not in address:
            raise MailError(
                "AUDITROUND_MAIL_FROM is not set to an email address, for example "
                "'CHSCP Case Audits <audits@chscp.org.uk>'."
            )
        url = urlparse(self.public_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise MailError(
                "AUDITROUND_PUBLIC_URL is not set to a web address, for example "
                "'https://audits.chscp.org.uk': the links in the emails start with it."
            )

    def check_sending(self) -> None:
        """Raise MailError unless mail can be sent (a server, and safe use of a password)."""
        if not self.host:
            raise MailError("AUDITROUND_SMTP_HOST is not set: there is no mail server to send to.")
        if self.user and self.security == "none" and self.host not in LOOPBACK:
            raise MailError(
                "AUDITROUND_SMTP_USER is set but AUDITROUND_SMTP_SECURITY is 'none': "
                "the password would cross the network unencrypted. Use 'starttls' or 'ssl'."
            )


def from_env(environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """Read the settings; raise MailError naming the variable that is wrong."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(f"AUDITROUND_{name}", "").strip()

    security = get("SMTP_SECURITY").lower() or "starttls"
    if security not in DEFAULT_PORTS:
        raise MailError(
            f"AUDITROUND_SMTP_SECURITY is '{security}': use 'none', 'starttls' or 'ssl'."
        )
    port_text = get("SMTP_PORT")
    try:
        port = int(port_text) if port_text else DEFAULT_PORTS[security]
    except ValueError:
        raise MailError(f"AUDITROUND_SMTP_PORT is '{port_text}': use a port number.") from None
    if not 0 < port < 65536:
        raise MailError(f"AUDITROUND_SMTP_PORT is {port}: use a port number from 1 to 65535.")
    timeout_text = get("SMTP_TIMEOUT")
    try:
        timeout = float(timeout_text) if timeout_text else 30.0
    except ValueError:
        raise MailError(
            f"AUDITROUND_SMTP_TIMEOUT is '{timeout_text}': use a number of seconds."
        ) from None
    return SmtpSettings(
        host=get("SMTP_HOST"),
        port=port,
        security=security,  # type: ignore[arg-type]
        user=get("SMTP_USER"),
        password=env.get("AUDITROUND_SMTP_PASSWORD", ""),
        timeout=timeout,
        mail_from=get("MAIL_FROM"),
        public_url=get("PUBLIC_URL").rstrip("/"),
    )
