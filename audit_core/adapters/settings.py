"""Every environment variable the application reads, validated in one place (pydantic-settings).

==============================  ==========================================================
``AUDITROUND_CONFIG``           the configuration folder [default: ./config]
``AUDITROUND_DATABASE_URL``     the database [default: SQLite at ./var/auditround.db]
``AUDITROUND_NOW``              act as if it were this date or time (rehearsals)
``AUDITROUND_ACTOR``            who is acting, for the audit trail [default: cli:<login>]
``AUDITROUND_SMTP_HOST``        the mail server (needed to send)
``AUDITROUND_SMTP_PORT``        its port [default: 25, 587 with starttls, 465 with ssl]
``AUDITROUND_SMTP_SECURITY``    ``none``, ``starttls`` or ``ssl`` [default: starttls];
                                certificates are always verified
``AUDITROUND_SMTP_USER``        login name, if the server wants one
``AUDITROUND_SMTP_PASSWORD``    its password
``AUDITROUND_SMTP_TIMEOUT``     seconds to wait for the server [default: 30]
``AUDITROUND_MAIL_FROM``        the sender, e.g. ``CHSCP Case Audits <audits@chscp.org.uk>``
``AUDITROUND_PUBLIC_URL``       where the portal lives; every link in an email starts here
``AUDITROUND_PORTAL_SECRET``    the key that signs the portal's sign-in form [default: a
                                new random key each time the portal starts]
==============================  ==========================================================

``AUDITROUND_DATABASE_RETRY_SECONDS`` is how long a database locked by another
process, or out of reach, is waited for before a command or the dispatcher
stops with a sentence saying so [default: 30].

``AUDITROUND_MIGRATION_DATABASE_URL`` names the same database as the owner of
its tables, for ``db upgrade`` and ``db grant`` (on PostgreSQL the application
runs as a role that does not own them) [default: ``AUDITROUND_DATABASE_URL``].

:class:`Settings` holds what every command needs; the mail settings
(:func:`mail_from_env`) are read only by the commands that write or send mail,
so a mistake in them never stops, say, a register import. Secrets are read
from the environment only, never from the configuration files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from audit_core.domain.errors import MailError, SettingError

PREFIX = "AUDITROUND_"
Security = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class Settings(BaseSettings):
    """What every command reads: the configuration folder, the database, the clock, who acts."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    config: Path = Path("config")
    database_url: str = ""
    migration_database_url: str = ""
    database_retry_seconds: float = Field(default=30.0, gt=0)
    now: str = ""
    actor: str = ""
    portal_secret: SecretStr = SecretStr("")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingError(" ".join(_sentence(error) for error in exc.errors())) from None


class _MailEnvironment(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    smtp_host: str = ""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_from: str = ""
    public_url: str = ""

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class _MailMapping(_MailEnvironment):
    """The same settings, read from a mapping given (and nothing else)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


_WRONG = {
    "smtp_security": "use 'none', 'starttls' or 'ssl'",
    "smtp_port": "use a port number from 1 to 65535",
    "smtp_timeout": "use a number of seconds",
    "database_retry_seconds": "use a number of seconds above 0",
}


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

    def check_sender(self) -> None:
        """Raise MailError unless there is a sender to write email from."""
        self.check(sending=False, links=False)

    def check_composing(self) -> None:
        """Raise MailError unless emails with links can be written (a sender and a public URL)."""
        self.check(sending=False, links=True)

    def check_sending(self) -> None:
        """Raise MailError unless mail can be sent (a server, and safe use of a password)."""
        self._raise(self._sending_problems())

    def check(self, *, sending: bool, links: bool) -> None:
        """Raise one MailError naming every setting missing or malformed for the job: a
        sender always, the public address for email with links, the server to send."""
        problems = [self._sender_problem()]
        if links:
            problems.append(self._public_url_problem())
        if sending:
            problems += self._sending_problems()
        self._raise(problems)

    @staticmethod
    def _raise(problems: list[str | None]) -> None:
        found = [p for p in problems if p]
        if found:
            raise MailError(" ".join(found))

    def _sender_problem(self) -> str | None:
        address = self.sender_address
        if address and "@" in address:
            return None
        example = "for example 'CHSCP Case Audits <audits@chscp.org.uk>'"
        if not self.mail_from:
            return f"AUDITROUND_MAIL_FROM is not set: give the sender, {example}."
        return (
            f"AUDITROUND_MAIL_FROM is '{self.mail_from}', which is not an email address: "
            f"give the sender, {example}."
        )

    def _public_url_problem(self) -> str | None:
        url = urlparse(self.public_url)
        if url.scheme in ("http", "https") and url.netloc:
            return None
        why = "the links in the emails start with it"
        if not self.public_url:
            return (
                "AUDITROUND_PUBLIC_URL is not set: give the portal's web address, for example "
                f"'https://audits.chscp.org.uk' ({why})."
            )
        return (
            f"AUDITROUND_PUBLIC_URL is '{self.public_url}', which is not a web address: write "
            f"it in full with https://, for example 'https://audits.chscp.org.uk' ({why})."
        )

    def _sending_problems(self) -> list[str | None]:
        if not self.host:
            return ["AUDITROUND_SMTP_HOST is not set: there is no mail server to send to."]
        if self.user and self.security == "none" and self.host not in LOOPBACK:
            return [
                "AUDITROUND_SMTP_USER is set but AUDITROUND_SMTP_SECURITY is 'none': "
                "the password would cross the network unencrypted. Use 'starttls' or 'ssl'."
            ]
        return []


def mail_from_env(environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """Read the mail settings (from ``environ``, else the process environment).

    Every wrong value is named at once, with the variable and what it should be.
    """
    try:
        read = _MailEnvironment() if environ is None else _MailMapping(**_from_mapping(environ))
    except ValidationError as exc:
        raise MailError(" ".join(_sentence(error) for error in exc.errors())) from None
    port = read.smtp_port or DEFAULT_PORTS[read.smtp_security]
    return SmtpSettings(
        host=read.smtp_host.strip(),
        port=port,
        security=read.smtp_security,
        user=read.smtp_user.strip(),
        password=read.smtp_password.get_secret_value(),
        timeout=read.smtp_timeout,
        mail_from=read.mail_from.strip(),
        public_url=read.public_url.strip().rstrip("/"),
    )


def _from_mapping(environ: Mapping[str, str]) -> dict[str, Any]:
    """The AUDITROUND_ variables of a mapping, as field names, empty ones left out."""
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if name.startswith(PREFIX) and value.strip():
            values[name.removeprefix(PREFIX).lower()] = value
    return values


def _sentence(error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    variable = PREFIX + name.upper()
    value = error.get("input")
    how = _WRONG.get(name, error["msg"])
    return f"{variable} is '{value}': {how}."


def login_name() -> str:
    """Who is at the keyboard, for the default actor."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")
