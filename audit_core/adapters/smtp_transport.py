"""Sending stored message bytes over one reused SMTP connection (``smtplib``).

The messages are built with the ``emails`` package, but sent here with
``smtplib`` (its commands one by one, so that the dispatcher's database work
runs while the server is busy) so that the outbox sees the server's exact reply
codes: which
recipients were refused and why, and whether a refusal is temporary (4xx,
a dropped connection: try again later) or permanent (5xx: stop). The bytes
handed to the server are exactly the bytes the outbox stored.

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

from audit_core.adapters.settings import SmtpSettings

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
        while_envelope: Work | None = None,
        while_content: Work | None = None,
    ) -> dict[str, str]:
        """Hand ``raw`` to the server; return the refused recipients (if only some were).

        ``while_envelope`` runs while the server answers MAIL FROM, before the content is
        sent; ``while_content`` runs while the server takes in the content, before its
        answer is read. Each is called once if the exchange gets that far; an exception
        from either stops the send and is raised as it is.
        """
        ...

    def close(self) -> None: ...


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _refusal(code: int, message: bytes | str) -> SendFailure:
    return SendFailure(
        f"the mail server said {_reply(code, message)}", temporary=not 500 <= code < 600, code=code
    )


class _WorkFailed(Exception):
    """The caller's work, run during a send, raised ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _run(work: Work | None) -> None:
    if work is not None:
        try:
            work()
        except Exception as exc:  # not a mail failure: hand it back to the caller as it is
            raise _WorkFailed(exc) from exc


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def _sendmail(
    conn: smtplib.SMTP,
    sender: str,
    recipients: list[str],
    raw: bytes,
    while_envelope: Work | None,
    while_content: Work | None,
) -> dict[str, tuple[int, bytes]]:
    """``smtplib.SMTP.sendmail``, step by step, with the caller's work done while the server
    is busy: it sends the same commands and bytes, raises the same exceptions, and resets
    or closes the session as ``sendmail`` does.

    1. MAIL FROM (with the size, if the server announces SIZE); ``while_envelope`` runs
       before the answer is read.
    2. RCPT TO for each recipient; the refused ones are kept. If every one is refused,
       or the server closes (421), the message fails.
    3. DATA, then the content (dot-stuffed, ending with a line holding a dot);
       ``while_content`` runs before the server's answer is read. 250: accepted.
    """
    conn.ehlo_or_helo_if_needed()
    size = f" SIZE={len(raw)}" if conn.does_esmtp and conn.has_extn("size") else ""
    conn.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{size}")
    _run(while_envelope)
    code, reply = conn.getreply()
    if code != 250:
        _end(conn, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = conn.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == 421:
            conn.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        conn.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = conn.docmd("data")
    if code != 354:
        _end(conn, code)
        raise smtplib.SMTPDataError(code, reply)
    content = _DOT_AT_LINE_START.sub(b"..", raw)
    conn.send(content + (b"" if content.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    _run(while_content)
    code, reply = conn.getreply()
    if code != 250:
        _end(conn, code)
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _end(conn: smtplib.SMTP, code: int) -> None:
    """After a refusal: the server is closing (421), or the transaction is reset."""
    if code == 421:
        conn.close()
    else:
        conn.rset()


def _starttls(conn: smtplib.SMTP, context: ssl.SSLContext | None, s: SmtpSettings) -> None:
    """Switch the connection to TLS; a failure is named as a STARTTLS one, with the fix."""
    try:
        conn.starttls(context=context)
    except (ssl.SSLError, smtplib.SMTPNotSupportedError, smtplib.SMTPResponseException) as exc:
        conn.close()
        raise SendFailure(
            f"the mail server's STARTTLS failed ({exc}): check its certificate, or set "
            "AUDITROUND_SMTP_SECURITY=ssl if it takes TLS from the start (usually port 465), "
            f"or AUDITROUND_SMTP_SECURITY=none if {s.host} offers no encryption",
            temporary=True,
            connecting=True,
        ) from exc
    conn.ehlo()


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
                _starttls(conn, context, s)
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
        while_envelope: Work | None = None,
        while_content: Work | None = None,
    ) -> dict[str, str]:
        """Send one message; raise :class:`SendFailure` if the server did not take it.

        A permanent refusal keeps the connection (the next message may be fine); any
        other failure drops it, and the next send opens a new one.
        """
        conn = self._connection()
        try:
            refused = _sendmail(conn, sender, list(recipients), raw, while_envelope, while_content)
        except _WorkFailed as failed:
            self._drop()  # the exchange stopped half-way
            raise failed.error from None
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient was refused
            reasons = {r: _reply(code, message) for r, (code, message) in exc.recipients.items()}
            codes = [code for code, _message in exc.recipients.values()]
            failure = SendFailure(
                "every recipient was refused: "
                + "; ".join(f"{r}: {t}" for r, t in reasons.items()),
                temporary=not all(code >= 500 for code in codes),
                code=max(codes),
                refused=reasons,
            )
            self._after_failure(failure)
            raise failure from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            failure = _refusal(exc.smtp_code, exc.smtp_error)
            self._after_failure(failure)
            raise failure from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise SendFailure(
                f"the connection to the mail server failed ({exc or type(exc).__name__})",
                temporary=True,
            ) from exc
        self._last_used = time.monotonic()
        return {r: _reply(code, message) for r, (code, message) in refused.items()}

    def _after_failure(self, failure: SendFailure) -> None:
        """After a permanent refusal, keep the connection (smtplib has reset the transaction);
        after a temporary one (the server may be in trouble), open a new one next time."""
        if failure.temporary or self._conn is None or self._conn.sock is None:
            self._drop()
        else:
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
