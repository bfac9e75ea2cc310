"""Queueing: rendered once, stored as the bytes to send, never queued twice."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import jinja2
import pytest
from mail_factory import MAIL_FROM, queue_notes
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit_core import outbox
from audit_core.config import BoardConfig
from audit_core.mail import Attachment
from audit_core.models import OutboxMessage

pytestmark = pytest.mark.database


def test_a_queued_message_is_stored_as_rfc5322_bytes_waiting_to_be_sent(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    (message,) = queue_notes(session, config, now, 1)
    session.commit()

    parsed = BytesParser(policy=default_policy).parsebytes(message.raw)
    assert message.status == "queued" and message.attempts == 0
    assert message.next_attempt_at == now and message.queued_at == now
    assert parsed["Message-ID"] == message.message_id
    assert parsed["Subject"] == message.subject
    assert message.recipients == ["amara.bello@example.org"]
    assert message.sender == "case-audits@chscp.example.org"
    assert b"\r\n" in message.raw and b"\n\n" not in message.raw.replace(b"\r\n", b"")


def test_the_message_id_is_derived_from_the_dedupe_key_and_the_sender_domain(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    (message,) = queue_notes(session, config, now, 1, prefix="reminder:17:1")
    digest = hashlib.sha256(b"reminder:17:1:0").hexdigest()[:32]
    assert message.message_id == f"<{digest}@chscp.example.org>"


def test_the_date_header_is_the_queue_time(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    (message,) = queue_notes(session, config, now, 1)
    parsed = BytesParser(policy=default_policy).parsebytes(message.raw)
    assert parsedate_to_datetime(str(parsed["Date"])) == now


def test_queueing_the_same_key_again_keeps_the_first_message(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    (first,) = queue_notes(session, config, now, 1)
    session.commit()
    rendered: list[str] = []

    def attachments() -> list[Attachment]:
        rendered.append("called")
        return []

    draft = outbox.Draft(
        dedupe_key=first.dedupe_key,
        kind="note",
        template="no-such-template",  # never rendered: the key is already there
        context={},
        to=["someone.else@example.org"],
        attachments=attachments,
    )
    again = outbox.queue(
        session, draft, mail_from=MAIL_FROM, now=now + dt.timedelta(days=1), actor="bob"
    )
    session.commit()

    assert not again.created
    assert again.message.id == first.id
    assert again.message.recipients == ["amara.bello@example.org"]
    assert rendered == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_template_value_left_out_is_an_error_not_a_blank(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    draft = outbox.Draft(
        dedupe_key="task:999",
        kind="task",
        template="task",
        context={"round_id": "2026-H1"},
        to=["amara.bello@example.org"],
    )
    with pytest.raises(jinja2.UndefinedError):
        outbox.queue(session, draft, mail_from=MAIL_FROM, now=now, actor="alice")
