"""Composing emails: three Jinja2 templates per email, assembled by the ``emails`` package.

Every email ``<name>`` is ``templates/email/<name>.subject.j2``,
``<name>.txt.j2`` and ``<name>.html.j2``. Templates get plain data (no
database rows); undefined names are errors (``StrictUndefined``) and the HTML
is autoescaped. :class:`EmailComposer` renders them once and returns the RFC
5322 bytes that the outbox stores and later sends unchanged, with a Message-ID
derived from the message's dedupe key and the Date of the queue time, and a
calendar file (:mod:`.calendar_file`) when the letter has dates to keep.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message as MimeMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import emails
import jinja2

from audit_core.adapters.calendar_file import calendar
from audit_core.adapters.templates import TEMPLATES
from audit_core.domain.workdays import LONDON
from audit_core.services.ports import Address, Composed, Letter

TEMPLATE_DIR = TEMPLATES / "email"
CALENDAR_FILE = "case-audit-dates.ics"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar"
    data: bytes
    params: tuple[tuple[str, str], ...] = ()  # extra Content-Type parameters


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def long_date(value: dt.date) -> str:
    """Friday 3 April 2026."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def short_date(value: dt.date) -> str:
    """Fri 3 Apr."""
    return f"{value:%a} {value.day} {value:%b}"


@functools.cache
def environment(template_dir: Path = TEMPLATE_DIR) -> jinja2.Environment:
    """The Jinja2 environment: autoescape for ``.html.j2`` only, StrictUndefined everywhere."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    env.filters["short_date"] = short_date
    return env


def render(name: str, context: Mapping[str, Any], template_dir: Path = TEMPLATE_DIR) -> Rendered:
    """Render the subject, text and HTML templates of email ``name``."""
    env = environment(template_dir)
    subject = env.get_template(f"{name}.subject.j2").render(context)
    return Rendered(
        subject=re.sub(r"\s+", " ", subject).strip(),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
    )


def message_id_for(dedupe_key: str, domain: str, installation: str) -> str:
    """``<first 32 hex digits of sha256(installation id:dedupe key)@domain>``.

    The same message keeps its id when it is sent again; no two installations, and no
    database made anew, ever give two different emails the same id.
    """
    digest = hashlib.sha256(f"{installation}:{dedupe_key}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _pair(address: Address) -> tuple[str, str]:
    if isinstance(address, tuple):
        return address
    name, bare = parseaddr(address)
    return (name, bare)


class EmailComposer:
    """The :class:`~audit_core.services.ports.Composer` of the use cases."""

    def __init__(
        self, *, installation: str, template_dir: Path = TEMPLATE_DIR, zone: ZoneInfo = LONDON
    ) -> None:
        self.installation = installation  # this installation's id, in every Message-ID
        self.template_dir = template_dir
        self.zone = zone  # the board's zone: the Date header is its local time

    def compose(
        self, letter: Letter, *, dedupe_key: str, mail_from: str, date: dt.datetime
    ) -> Composed:
        attachments = []
        if letter.calendar:
            domain = parseaddr(mail_from)[1].rpartition("@")[2]
            data = calendar(letter.calendar, dedupe_key=dedupe_key, domain=domain, stamp=date)
            attachments.append(
                Attachment(CALENDAR_FILE, "text/calendar", data, params=(("method", "PUBLISH"),))
            )
        attachments += [Attachment(f.filename, f.content_type, f.data) for f in letter.files]
        return compose(
            template=letter.template,
            context=letter.context,
            dedupe_key=dedupe_key,
            mail_from=mail_from,
            to=letter.to,
            date=date,
            reply_to=letter.reply_to,
            attachments=attachments,
            installation=self.installation,
            template_dir=self.template_dir,
            zone=self.zone,
        )


def compose(
    *,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    mail_from: str,
    to: Sequence[Address],
    date: dt.datetime,
    reply_to: Address | None = None,
    attachments: Sequence[Attachment] = (),
    installation: str,
    template_dir: Path = TEMPLATE_DIR,
    zone: ZoneInfo = LONDON,
) -> Composed:
    """Render email ``template`` and assemble it (multipart/alternative text + HTML, attachments).

    The Date header is ``date`` in the board's zone (``zone``); the Message-ID comes from
    the ``installation`` id, ``dedupe_key`` and the domain of ``mail_from``.
    """
    rendered = render(template, context, template_dir)
    sender_name, sender = parseaddr(mail_from)
    message_id = message_id_for(dedupe_key, sender.rpartition("@")[2], installation)
    recipients = [_pair(a) for a in to]
    message = emails.html(
        html=rendered.html,
        text=rendered.text,
        subject=rendered.subject,
        mail_from=(sender_name, sender) if sender_name else sender,
        mail_to=recipients,
        reply_to=[_pair(reply_to)] if reply_to else None,
        message_id=message_id,
        date=format_datetime(date.astimezone(zone)),
        headers={"Auto-Submitted": "auto-generated"},
    )
    for item in attachments:
        message.attach(data=item.data, filename=item.filename, mime_type=item.content_type)
    params = {a.filename: a.params for a in attachments if a.params}
    message.after_build = functools.partial(_finish, params, message_id[1:17])
    return Composed(
        message_id=message_id,
        subject=rendered.subject,
        sender=sender,
        recipients=tuple(bare for _name, bare in recipients),
        raw=message.as_bytes(),
    )


def _finish(
    params: Mapping[str, tuple[tuple[str, str], ...]], seed: str, _message: Any, root: MimeMessage
) -> None:
    """Add the attachments' extra Content-Type parameters, and name each multipart's boundary.

    A boundary named here spares the standard library's search of the whole message for
    a collision with a random one, which is most of the time spent serialising it. No
    collision is possible: every part is base64-encoded, and base64 text never holds a
    run of ``=`` signs, while these boundaries are framed by them (as the library's own
    are). They derive from the Message-ID, so the same message gets the same bytes.
    """
    multiparts = 0
    for part in root.walk():
        if part.is_multipart():
            part.set_boundary(f"{'=' * 15}{seed}{multiparts:02d}==")
            multiparts += 1
        for key, value in params.get(part.get_filename() or "", ()):
            part.set_param(key, value)
