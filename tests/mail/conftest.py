"""SMTP fixtures: a real aiosmtpd server on loopback (plain, or scripted by the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from mail_factory import MAIL_FROM, PUBLIC_URL
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit_core import db, smtp_sink
from audit_core.smtp_settings import SmtpSettings
from audit_core.smtp_sink import Sink, SinkHandler


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A plain sink: accepts everything and keeps it in memory."""
    with smtp_sink.running() as running:
        yield running


@pytest.fixture
def mail_settings(sink: Sink) -> SmtpSettings:
    return sink.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def start_sink() -> Iterator[Callable[[SinkHandler], Sink]]:
    """Start a sink with a chosen handler; every sink started is stopped after the test."""
    started: list[Sink] = []

    def start(handler: SinkHandler) -> Sink:
        running = smtp_sink.start(handler)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
