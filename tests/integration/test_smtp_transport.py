"""The transport hands the stored bytes to the server as they are, over one reused
connection, and a refused message does not stop the next one from going."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.adapters.smtp_transport import SendFailure, SmtpTransport

SENDER = "case-audits@chscp.example.org"
TO = ["amara.bello@example.org"]
StartSink = Callable[[SinkHandler], Sink]


def raw(n: int) -> bytes:
    """A small message; its body has a line starting with a dot, and a line that is only one."""
    return (
        f"Message-ID: <note-{n}@chscp.example.org>\r\n"
        f"Subject: note {n}\r\n"
        "\r\n"
        ".a line that starts with a dot\r\n"
        ".\r\n"
        "..two dots\r\n"
        f"the end of note {n}\r\n"
    ).encode()


def test_the_server_receives_the_bytes_exactly_as_stored(
    sink: Sink, mail_settings: SmtpSettings
) -> None:
    transport = SmtpTransport(mail_settings)
    try:
        refused = transport.send(SENDER, TO, raw(1))
    finally:
        transport.close()

    assert refused == {}
    (received,) = sink.messages
    assert (received.mail_from, received.rcpt_tos) == (SENDER, tuple(TO))
    assert received.content.rstrip(b"\r\n") == raw(1).rstrip(b"\r\n")  # dots restored


def test_several_messages_go_over_one_connection(start_sink: StartSink) -> None:
    handler = ScriptedHandler()
    server = start_sink(handler)
    transport = SmtpTransport(server.settings())
    try:
        for n in range(5):
            assert transport.send(SENDER, TO, raw(n)) == {}
    finally:
        transport.close()

    assert [r.content.rstrip(b"\r\n") for r in server.messages] == [
        raw(n).rstrip(b"\r\n") for n in range(5)
    ]
    assert handler.connections == 1


@pytest.mark.parametrize(
    ("answer", "temporary", "code", "connections"),
    [
        ("451 4.3.0 try again later", True, 451, 2),  # the server may be in trouble: reconnect
        ("550 5.7.1 refused", False, 550, 1),  # only this message is refused: keep the line
        ("drop", True, None, 2),  # the server hung up
    ],
)
def test_a_refused_message_raises_send_failure_and_the_next_one_is_still_sent(
    start_sink: StartSink, answer: str, temporary: bool, code: int | None, connections: int
) -> None:
    handler = ScriptedHandler({"<note-1@chscp.example.org>": [answer]})
    server = start_sink(handler)
    transport = SmtpTransport(server.settings())
    try:
        assert transport.send(SENDER, TO, raw(0)) == {}
        with pytest.raises(SendFailure) as failed:
            transport.send(SENDER, TO, raw(1))
        delivered_after_failure = server.count
        assert transport.send(SENDER, TO, raw(2)) == {}
        assert transport.send(SENDER, TO, raw(1)) == {}  # the refused one, tried again
    finally:
        transport.close()

    assert (failed.value.temporary, failed.value.code) == (temporary, code)
    assert not failed.value.connecting
    if answer != "drop":
        assert answer in failed.value.detail
    assert delivered_after_failure == 1
    assert [r.message_id for r in server.messages] == [
        "<note-0@chscp.example.org>",
        "<note-2@chscp.example.org>",
        "<note-1@chscp.example.org>",
    ]
    assert handler.connections == connections


def test_every_recipient_refused_raises_send_failure_and_the_next_message_is_still_sent(
    start_sink: StartSink,
) -> None:
    handler = ScriptedHandler(refuse={"gone.away@example.org": "550 5.1.1 no such user"})
    server = start_sink(handler)
    transport = SmtpTransport(server.settings())
    try:
        with pytest.raises(SendFailure) as failed:
            transport.send(SENDER, ["gone.away@example.org"], raw(1))
        assert transport.send(SENDER, TO, raw(2)) == {}
    finally:
        transport.close()

    assert not failed.value.temporary and failed.value.code == 550
    assert failed.value.refused == {"gone.away@example.org": "550 5.1.1 no such user"}
    assert [r.message_id for r in server.messages] == ["<note-2@chscp.example.org>"]
    assert handler.connections == 1


def test_the_work_handed_to_a_send_runs_while_the_server_is_busy(
    sink: Sink, mail_settings: SmtpSettings
) -> None:
    transport = SmtpTransport(mail_settings)
    done: list[tuple[str, int]] = []
    try:
        refused = transport.send(
            SENDER,
            TO,
            raw(1),
            while_envelope=lambda: done.append(("envelope", sink.count)),
            while_content=lambda: done.append(("content", 0)),
        )
    finally:
        transport.close()

    assert refused == {}
    assert done == [("envelope", 0), ("content", 0)]  # the first before the server had it
    (received,) = sink.messages
    assert received.content.rstrip(b"\r\n") == raw(1).rstrip(b"\r\n")


def test_a_failure_in_the_work_sends_nothing_and_reaches_the_caller_as_it_was(
    sink: Sink, mail_settings: SmtpSettings
) -> None:
    transport = SmtpTransport(mail_settings)

    def database_gone() -> None:
        raise ConnectionError("the database went away")

    try:
        with pytest.raises(ConnectionError, match="the database went away"):
            transport.send(SENDER, TO, raw(1), while_envelope=database_gone)
        delivered_after_failure = sink.count
        transport.send(SENDER, TO, raw(2))  # a fresh connection
    finally:
        transport.close()

    assert (delivered_after_failure, sink.count) == (0, 1)
