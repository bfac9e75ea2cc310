"""What the use cases need from the outside world, declared as plain types and protocols.

The use cases never import an adapter. Where one needs something done outside
the database (an email composed into RFC 5322 bytes), it declares the shape of
that here; the composition root (:mod:`audit_core.bootstrap`) hands over the
adapter that fits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from audit_core.domain.briefing import BriefingContent

Address = str | tuple[str, str]  # "a@b.org", or (display name, address)


@dataclass(frozen=True)
class CalendarEntry:
    """One all-day entry of a calendar file; ``key`` makes its UID unique within the message."""

    key: str
    day: dt.date
    summary: str
    description: str = ""


@dataclass(frozen=True)
class FileAttachment:
    """A file sent with an email (an issued briefing's PDF)."""

    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class Letter:
    """An email to compose: which templates, with what plain data, to whom."""

    template: str  # templates/email/<template>.{subject,txt,html}.j2
    context: Mapping[str, Any]
    to: Sequence[Address]
    reply_to: Address | None = None
    calendar: Sequence[CalendarEntry] = ()  # attached as one .ics file when not empty
    files: Sequence[FileAttachment] = ()


@dataclass(frozen=True)
class Composed:
    """A finished message: what the outbox stores and the SMTP server receives."""

    message_id: str
    subject: str
    sender: str  # envelope sender (bare address)
    recipients: tuple[str, ...]  # envelope recipients (bare addresses)
    raw: bytes


class Composer(Protocol):
    def compose(
        self, letter: Letter, *, dedupe_key: str, mail_from: str, date: dt.datetime
    ) -> Composed:
        """Render ``letter`` once into the bytes that will be sent, Message-ID and Date set."""
        ...


@dataclass(frozen=True)
class Mail:
    """What a use case needs to queue email: a composer, the sender, and where links point."""

    composer: Composer
    mail_from: str
    public_url: str


class Passwords(Protocol):
    """Password hashing for the dashboard's users (Argon2id in the adapter)."""

    def hash(self, password: str) -> str:
        """A new salted hash of ``password``, its parameters written into it."""
        ...

    def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Whether ``password`` matches ``hashed``, and a fresh hash if the parameters have
        grown stronger since (else None). A hash it cannot read matches nothing."""
        ...

    def waste(self, password: str) -> None:
        """Take as long as :meth:`verify` and match nothing: a sign-in under an unknown or
        disabled name costs the same time as one under a real name."""
        ...


@dataclass(frozen=True)
class RenderedBriefing:
    """A briefing in one layout: the HTML page and its PDF."""

    layout: str  # "briefing" | "seven-minute"
    html: str
    pdf: bytes


class BriefingRenderer(Protocol):
    def render(self, content: BriefingContent, *, layout: str = "briefing") -> RenderedBriefing:
        """The briefing as a standalone HTML page (styles and the chart inline, no script)
        and as a PDF (WeasyPrint), in the board's branding."""
        ...
