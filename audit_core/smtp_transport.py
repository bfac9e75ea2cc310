"""Sending stored message bytes over one reused SMTP connection (``smtplib``).

The messages are built with the ``emails`` package, but sent here with
``smtplib`` so that the outbox sees the server's exact reply codes: which
recipients were refused and why, and whether a refusal is temporary (4xx,
a dropped connection: try again later) or permanent (5xx: stop). The bytes
handed to the server are exactly the bytes the outbox stored.

The conversation for one message is ``smtplib``'s ``sendmail`` taken step by
step (:meth:`SmtpTransport._converse`), so that the caller's own work (the
dispatcher's database statements) can run while the server is busy answering.

Certificates are always verified (``ssl.create_default_context()``), for
``ssl`` and for ``starttls``.
"""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from audit_core.smtp_settings import SmtpSettings

IDLE_CHECK_SECONDS = 30.0  # a connection idle longer than this is checked with NOOP first


class SendFailure(Exception):
    """A message was not accepted. ``temporary`` failures are tried again later."""

    def __init__(
        self,
        detail: str,
        *,
        temporary: bool,
        code: int | None = None,
        refused: Mapping[str, str] | None = None,
        connecting: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.temporary = temporary
        self.code = code
        self.refused = dict(refused or {})
        self.connecting = connecting  # the server could not be reached at all


Work = Callable[[], None]


class Transport(Protocol):
    def send(
        self,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Work | None = None,
        after_data: Work | None = None,
    ) -> dict[str, str]:
        """Hand ``raw`` to the server; return the refused recipients (if only some were).

        ``before_data`` runs before the content is sent, ``after_data`` after it is sent
        and before the server's answer is read; both are called once, in that order, if
        the conversation gets that far (an SMTP transport runs them while the server is
        busy). An exception from either stops the send and is raised as it is.
        """
        ...

    def close(self) -> None: ...


class _WorkFailed(Exception):
    """The caller's work, run during a send, raised ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _run(work: Work | None) -> None:
    if work is None:
        return
    try:
        work()
    except Exception as exc:  # not a mail failure: hand it back to the caller as it is
        raise _WorkFailed(exc) from exc


def _expect(reply: tuple[int, bytes], code: int) -> None:
    """Go on if the server answered ``code``; otherwise the message failed (5xx: for good)."""
    got, message = reply
    if got != code:
        raise SendFailure(
            f"the mail server said {_reply(got, message)}",
            temporary=not 500 <= got < 600,
            code=got,
        )


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


@functools.cache
def _local_hostname() -> str:
    return socket.getfqdn()


class SmtpTransport:
    """One SMTP connection, opened on first use and reopened after a failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context() if s.security != "none" else None
        conn: smtplib.SMTP
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=_local_hostname(),
                    timeout=s.timeout,
                    context=context,
                )
            else:
                conn = smtplib.SMTP(
                    s.host, s.port, local_hostname=_local_hostname(), timeout=s.timeout
                )
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.user:
                conn.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailure(
                f"the mail server refused the login ({_reply(exc.smtp_code, exc.smtp_error)})",
                temporary=True,
                code=exc.smtp_code,
                connecting=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailure(
                f"cannot connect to the mail server {s.host}:{s.port} ({exc})",
                temporary=True,
                connecting=True,
            ) from exc
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                if self._conn.noop()[0] != 250:
                    self._drop()
            except (smtplib.SMTPException, OSError):
                self._drop()
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def send(
        self,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Work | None = None,
        after_data: Work | None = None,
    ) -> dict[str, str]:
        conn = self._connection()
        try:
            refused = self._converse(conn, sender, list(recipients), raw, before_data, after_data)
        except _WorkFailed as failed:
            self._drop()  # the conversation stopped half-way
            raise failed.error from None
        except SendFailure as failure:
            self._after_failure(permanent=not failure.temporary)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise SendFailure(
                f"the connection to the mail server failed ({exc or type(exc).__name__})",
                temporary=True,
            ) from exc
        self._last_used = time.monotonic()
        return refused

    def _converse(
        self,
        conn: smtplib.SMTP,
        sender: str,
        recipients: list[str],
        raw: bytes,
        before_data: Work | None,
        after_data: Work | None,
    ) -> dict[str, str]:
        """What ``smtplib.SMTP.sendmail`` does, with the caller's work run while the server is busy.

        1. MAIL FROM (with the size, if the server announces SIZE). While the server
           answers, ``before_data`` runs.
        2. RCPT TO for each recipient; the refused ones are kept. If every one is refused,
           or the server closes (421), the message fails.
        3. DATA, then the content (dot-stuffed, ending with a line holding a dot). While the
           server takes it in, ``after_data`` runs.
        4. The server's answer to the content: 250 means accepted.
        """
        conn.ehlo_or_helo_if_needed()
        size = f" SIZE={len(raw)}" if conn.does_esmtp and conn.has_extn("size") else ""
        conn.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{size}")
        _run(before_data)
        _expect(conn.getreply(), 250)
        refused: dict[str, tuple[int, bytes]] = {}
        for recipient in recipients:
            code, message = conn.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, message)
            if code == 421 or len(refused) == len(recipients):
                reasons = {r: _reply(c, m) for r, (c, m) in refused.items()}
                raise SendFailure(
                    "every recipient was refused: "
                    + "; ".join(f"{r}: {t}" for r, t in reasons.items()),
                    temporary=not all(c >= 500 for c, _m in refused.values()),
                    code=max(c for c, _m in refused.values()),
                    refused=reasons,
                )
        _expect(conn.docmd("data"), 354)
        content = _DOT_AT_LINE_START.sub(b"..", raw)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        conn.send(content + b".\r\n")
        _run(after_data)
        _expect(conn.getreply(), 250)
        return {r: _reply(code, message) for r, (code, message) in refused.items()}

    def _after_failure(self, permanent: bool) -> None:
        """After a permanent refusal, reset the SMTP transaction and keep the connection;
        after a temporary one (the server may be in trouble), open a new one next time."""
        if not permanent or self._conn is None or self._conn.sock is None:
            self._drop()
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
            return
        self._last_used = time.monotonic()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
        self._drop()
