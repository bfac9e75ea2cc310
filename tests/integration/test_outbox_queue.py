"""Queueing: rendered once, stored as the bytes to send, never queued twice."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import jinja2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes

from audit_core.adapters import db
from audit_core.adapters.mail_render import EmailComposer, message_id_for
from audit_core.domain.models import OutboxMessage
from audit_core.services import outbox
from audit_core.services.ports import Composed, Letter, Mail
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


class RecordingComposer:
    """The real composer, noting the template of every letter it is asked to compose."""

    def __init__(self) -> None:
        self.composed: list[str] = []
        self.real = EmailComposer(installation="test-installation")

    def compose(
        self, letter: Letter, *, dedupe_key: str, mail_from: str, date: dt.datetime
    ) -> Composed:
        self.composed.append(letter.template)
        return self.real.compose(letter, dedupe_key=dedupe_key, mail_from=mail_from, date=date)


def row_of(session: Session, queued: outbox.Queued) -> OutboxMessage:
    row = session.get(OutboxMessage, queued.id)
    assert row is not None
    return row


def test_a_queued_message_is_stored_as_rfc5322_bytes_waiting_to_be_sent(
    session: Session, uow: UnitOfWork, now: dt.datetime
) -> None:
    (queued,) = queue_notes(uow, 1)
    session.commit()

    message = row_of(session, queued)
    parsed = BytesParser(policy=default_policy).parsebytes(message.raw)
    assert message.status == "queued" and message.attempts == 0
    assert message.next_attempt_at == now and message.queued_at == now
    assert parsed["Message-ID"] == message.message_id == queued.message_id
    assert parsed["Subject"] == message.subject
    assert message.recipients == ["amara.bello@example.org"]
    assert message.sender == "case-audits@chscp.example.org"
    assert b"\r\n" in message.raw and b"\n\n" not in message.raw.replace(b"\r\n", b"")


def test_the_message_id_is_derived_from_the_installation_the_dedupe_key_and_the_sender_domain(
    uow: UnitOfWork, installation: str
) -> None:
    (message,) = queue_notes(uow, 1, prefix="reminder:17:1")
    digest = hashlib.sha256(f"{installation}:reminder:17:1:0".encode()).hexdigest()[:32]
    assert message.message_id == f"<{digest}@chscp.example.org>"


def test_two_installations_never_give_two_emails_one_message_id(tmp_path: Path) -> None:
    ids = []
    for name in ("first", "second"):  # two databases made anew, the same dedupe key
        engine = db.make_engine(f"sqlite:///{tmp_path / name}.db")
        db.upgrade(engine)
        installation = db.installation_id(engine)
        engine.dispose()
        ids.append(message_id_for("task:1", "chscp.example.org", installation))
    assert ids[0] != ids[1]


def test_the_date_header_is_the_queue_time(
    session: Session, uow: UnitOfWork, now: dt.datetime
) -> None:
    (queued,) = queue_notes(uow, 1)
    parsed = BytesParser(policy=default_policy).parsebytes(row_of(session, queued).raw)
    assert parsedate_to_datetime(str(parsed["Date"])) == now


def test_queueing_the_same_key_again_keeps_the_first_message(
    session: Session, uow: UnitOfWork, make_uow: Callable[..., UnitOfWork], now: dt.datetime
) -> None:
    (first,) = queue_notes(uow, 1)
    session.commit()
    composer = RecordingComposer()
    later = make_uow(actor="bob", at=now + dt.timedelta(days=1))
    later.mail = Mail(composer, MAIL_FROM, PUBLIC_URL)

    draft = outbox.Draft(
        dedupe_key=first.dedupe_key,
        kind="note",
        letter=Letter(
            template="no-such-template",  # never composed: the key is already there
            context={},
            to=["someone.else@example.org"],
        ),
    )
    again = outbox.queue(later, draft)
    session.commit()

    assert not again.created
    assert (again.id, again.message_id) == (first.id, first.message_id)
    assert row_of(session, again).recipients == ["amara.bello@example.org"]
    assert composer.composed == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    queue_notes(later, 1, prefix="other")  # a new key is composed, through the same composer
    assert composer.composed == ["outbox_alert"]


def test_a_template_value_left_out_is_an_error_not_a_blank(uow: UnitOfWork) -> None:
    draft = outbox.Draft(
        dedupe_key="task:999",
        kind="task",
        letter=Letter(
            template="task", context={"round_id": "2026-H1"}, to=["amara.bello@example.org"]
        ),
    )
    with pytest.raises(jinja2.UndefinedError):
        outbox.queue(uow, draft)
