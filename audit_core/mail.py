"""Building emails: three Jinja2 templates per email, assembled by the ``emails`` package.

Every email ``<name>`` is ``templates/email/<name>.subject.j2``,
``<name>.txt.j2`` and ``<name>.html.j2``. Templates get plain data (no
database rows); undefined names are errors (``StrictUndefined``) and the HTML
is autoescaped. :func:`compose` renders them once and returns the RFC 5322
bytes that the outbox stores and later sends unchanged, with a Message-ID
derived from the message's dedupe key and the Date of the queue time.
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

import emails
import jinja2

from audit_core.clock import LONDON

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "email"

Address = str | tuple[str, str]  # "a@b.org", or (display name, address)


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


@dataclass(frozen=True)
class Composed:
    """A finished message: what the outbox stores and the SMTP server receives."""

    message_id: str
    subject: str
    sender: str  # envelope sender (bare address)
    recipients: tuple[str, ...]  # envelope recipients (bare addresses)
    raw: bytes


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


def message_id_for(dedupe_key: str, domain: str) -> str:
    """``<first 32 hex digits of sha256(dedupe key)@domain>``: the same key, the same id."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@{domain}>"


def _pair(address: Address) -> tuple[str, str]:
    if isinstance(address, tuple):
        return address
    name, bare = parseaddr(address)
    return (name, bare)


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
    template_dir: Path = TEMPLATE_DIR,
) -> Composed:
    """Render email ``template`` and assemble it (multipart/alternative text + HTML, attachments).

    The Date header is ``date`` in London time; the Message-ID comes from ``dedupe_key``
    and the domain of ``mail_from``.
    """
    rendered = render(template, context, template_dir)
    sender_name, sender = parseaddr(mail_from)
    message_id = message_id_for(dedupe_key, sender.rpartition("@")[2])
    recipients = [_pair(a) for a in to]
    message = emails.html(
        html=rendered.html,
        text=rendered.text,
        subject=rendered.subject,
        mail_from=(sender_name, sender) if sender_name else sender,
        mail_to=recipients,
        reply_to=[_pair(reply_to)] if reply_to else None,
        message_id=message_id,
        date=format_datetime(date.astimezone(LONDON)),
        headers={"Auto-Submitted": "auto-generated"},
    )
    for item in attachments:
        message.attach(data=item.data, filename=item.filename, mime_type=item.content_type)
    params = {a.filename: a.params for a in attachments if a.params}
    if params:
        message.after_build = functools.partial(_add_params, params)
    return Composed(
        message_id=message_id,
        subject=rendered.subject,
        sender=sender,
        recipients=tuple(bare for _name, bare in recipients),
        raw=message.as_bytes(),
    )


def _add_params(
    params: Mapping[str, tuple[tuple[str, str], ...]], _message: Any, root: MimeMessage
) -> None:
    for part in root.walk():
        extra = params.get(part.get_filename() or "")
        for key, value in extra or ():
            part.set_param(key, value)
