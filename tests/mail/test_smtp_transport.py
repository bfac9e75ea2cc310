"""Work handed to a send runs while the server is busy; if it fails, nothing is delivered."""

from __future__ import annotations

import pytest

from audit_core.smtp_settings import SmtpSettings
from audit_core.smtp_sink import Sink
from audit_core.smtp_transport import SmtpTransport

SENDER = "case-audits@chscp.example.org"
TO = ["amara.bello@example.org"]
RAW = b"Subject: a note\r\n\r\n.a line that starts with a dot\r\nthe end\r\n"


def test_the_work_before_the_data_is_done_before_the_server_has_the_message(
    sink: Sink, mail_settings: SmtpSettings
) -> None:
    transport = SmtpTransport(mail_settings)
    done: list[tuple[str, int]] = []
    try:
        refused = transport.send(
            SENDER,
            TO,
            RAW,
            before_data=lambda: done.append(("before", sink.count)),
            after_data=lambda: done.append(("after", 0)),
        )
    finally:
        transport.close()

    assert refused == {}
    assert done == [("before", 0), ("after", 0)]
    (received,) = sink.messages
    assert received.content.rstrip(b"\r\n") == RAW.rstrip(b"\r\n")  # dots restored


def test_a_failure_in_the_work_sends_nothing_and_reaches_the_caller_as_it_was(
    sink: Sink, mail_settings: SmtpSettings
) -> None:
    transport = SmtpTransport(mail_settings)

    def database_gone() -> None:
        raise ConnectionError("the database went away")

    try:
        with pytest.raises(ConnectionError, match="the database went away"):
            transport.send(SENDER, TO, RAW, before_data=database_gone)
        delivered_after_failure = sink.count
        transport.send(SENDER, TO, RAW)  # a fresh connection
    finally:
        transport.close()

    assert (delivered_after_failure, sink.count) == (0, 1)
