"""The owner's secure link to their action: sending it, and the page it opens.

An action's owner records progress without signing in, through a link of their own (as
an auditor's return): 32 random bytes, of which only the SHA-256 is kept
(``action.token_hash``). One link works at a time.

- :func:`send_link`: a fresh link, the old one retired at once (its email withdrawn if
  not yet sent), ``link_number`` counted on, and the owner emailed through the outbox
  (``action-link:<action>:<n>``): the action, its theme and round, how success is
  measured, the due date and the link; nothing about any child.
- :func:`fresh_link`: the same new link without its own email, for an email that carries
  it (the follow-up's reminders, :mod:`audit_core.services.action_follow_up`).
- :func:`open_action`: what the link opens (any other link is ``None``: a plain 404).
- :func:`record_progress`: the owner's update, a note (required), the status (open, in
  progress, done) and evidence (a web link or a short text), through
  :meth:`Action.record` with the RAG of :func:`audit_core.domain.actions.rag_of`. A
  closed action (done or dropped) is read-only.

Who acts, in the audit trail, is ``link:action-<id>``: the holder of that action's link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select

from audit_core.domain.actions import ActionView, check_update, rag_of, status_label
from audit_core.domain.errors import InvalidState, NotFound
from audit_core.domain.models import ACTION_STEPS, Action, ActionStatus
from audit_core.domain.returns import Problem, clean
from audit_core.domain.tokens import hash_token, new_token
from audit_core.services import actions, emails, outbox
from audit_core.services.ports import Letter
from audit_core.services.unit_of_work import UnitOfWork

LINK_KIND = "action_link"
MAX_EVIDENCE = 500  # characters: a link, or a short description of the evidence
OWNER_CAN_SET = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE)
_LINK_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # meant as a link, of whatever kind


def action_link(public_url: str, token: str) -> str:
    """The link an owner opens to record progress on their action."""
    return f"{public_url.rstrip('/')}/action/{token}"


def link_key(action: Action) -> str:
    """The dedupe key of the email carrying the action's current link."""
    return f"action-link:{action.id}:{action.link_number}"


# --- sending a link --------------------------------------------------------------------------


def fresh_link(uow: UnitOfWork, action: Action) -> str:
    """A new link to the action; the one before stops working at once, and its email is
    withdrawn if it has not gone out yet."""
    public_url = uow.mailer().public_url
    if action.link_number:
        outbox.withdraw(uow, [link_key(action)], why="a new link was sent in its place")
    token = new_token()
    action.token_hash = hash_token(token)
    action.link_number = (action.link_number or 0) + 1
    action.link_sent_at = uow.now
    return action_link(public_url, token)


def send_link(uow: UnitOfWork, action_id: int) -> None:
    """Email the action's owner a new link to it (on creation, or when a link is lost):
    the old link is retired, the email queued under ``action-link:<action>:<n>``."""
    uow.mailer()  # the sender and the public address are needed before anything changes
    action = uow.session.get(Action, action_id)
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    if action.closed:
        raise InvalidState(
            f"Action {action.id} is {status_label(action.status)}: its owner has nothing more "
            "to record, so no new link is sent."
        )
    replaces = bool(action.link_number)
    link = fresh_link(uow, action)
    letter = link_letter(uow, action, link, replaces=replaces)
    key = link_key(action)
    outbox.queue(uow, outbox.Draft(key, LINK_KIND, letter, action.round_id, action_id=action.id))
    uow.record(
        "action_link_sent",
        "action",
        action.id,
        round_id=action.round_id,
        details={"link": action.link_number, "email": key, "replaces": replaces},
    )


def link_letter(uow: UnitOfWork, action: Action, link: str, *, replaces: bool) -> Letter:
    """The owner's email with their link: the action and its dates, nothing about a child."""
    config = uow.config
    themes = {t.id: t.name for t in config.themes}
    agencies = {a.id: a.name for a in config.agencies}
    unit = config.board.business_unit
    return Letter(
        template="action_link",
        context={
            "board_name": config.board.name,
            "business_unit": emails.business_unit(config),
            "owner_name": action.owner_name,
            "action_id": action.id,
            "text": action.text,
            "theme_name": themes.get(action.theme_id, action.theme_id),
            "round_id": action.round_id,
            "agency_name": agencies.get(action.agency_id or "", ""),
            "measure": action.measure,
            "due_on": action.due_on,
            "link": link,
            "replaces": replaces,
        },
        to=[(action.owner_name, action.owner_email)],
        reply_to=(unit.name, unit.email),
    )


# --- the owner's page --------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerView:
    """What the owner's page shows: the action, its updates in order, and the statuses the
    owner may choose now (none once it is closed)."""

    action: ActionView
    choices: tuple[tuple[str, str], ...]  # (status, label)

    @property
    def editable(self) -> bool:
        return bool(self.choices)

    @staticmethod
    def is_link(evidence: str) -> bool:
        """Whether a piece of evidence is a web link (shown as one) rather than text."""
        return _web_link(evidence)


@dataclass(frozen=True)
class Progress:
    """What a POST of the owner's form did: the page to show, what was typed, the problems."""

    view: OwnerView
    typed: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    recorded: bool = False


def _find(uow: UnitOfWork, token: str) -> Action | None:
    """The action a current link opens, or None (wrong or retired)."""
    try:
        token_hash = hash_token(token)
    except UnicodeEncodeError:
        return None
    action = uow.session.scalars(select(Action).where(Action.token_hash == token_hash)).first()
    if action is not None:
        uow.actor = f"link:action-{action.id}"  # whoever holds this action's link acts
    return action


def _view(uow: UnitOfWork, action: Action) -> OwnerView:
    choices = tuple(
        (s.value, status_label(s.value).capitalize())
        for s in OWNER_CAN_SET
        if not action.closed and s in ACTION_STEPS[action.status]
    )
    return OwnerView(actions.show(uow, action.id), choices)


def open_action(uow: UnitOfWork, token: str) -> OwnerView | None:
    """The action the link opens, with its updates; None for any link that opens nothing."""
    action = _find(uow, token)
    return None if action is None else _view(uow, action)


def record_progress(uow: UnitOfWork, token: str, fields: Mapping[str, str]) -> Progress | None:
    """Record the owner's update; every problem is named by its field and nothing is
    written unless there is none. None for a link that opens nothing."""
    action = _find(uow, token)
    if action is None:
        return None
    view = _view(uow, action)
    if not view.editable:
        return Progress(view)  # closed: read-only
    typed = {name: clean(fields.get(name, "")) for name in ("note", "status", "evidence")}
    problems = _problems(typed, view)
    if problems:
        return Progress(view, typed, tuple(problems))
    was, today = action.status, uow.today
    rag = rag_of(typed["status"], action.due_on, today, today, uow.config.cadence.action_follow_up)
    update = action.record(
        status=typed["status"],
        note=typed["note"],
        by=action.owner_name,
        now=uow.now,
        rag=rag,
        evidence=typed["evidence"],
    )
    uow.session.flush()
    uow.record(
        "action_updated",
        "action",
        action.id,
        round_id=action.round_id,
        details={
            "update": update.id,
            "from": was,
            "to": typed["status"],
            "rag": rag,
            "evidence": bool(typed["evidence"]),
            "by": "owner",
        },
    )
    return Progress(_view(uow, action), recorded=True)


def _problems(typed: Mapping[str, str], view: OwnerView) -> list[Problem]:
    """The form's problems, each by its field (the page shows it beside the field)."""
    found: dict[str, str] = {}
    if typed["status"] not in {value for value, _ in view.choices}:
        allowed = ", ".join(label.lower() for _, label in view.choices)
        found["status"] = f"Choose the action's status: {allowed}."
    for problem in check_update(typed["note"], typed["evidence"]):
        reason = problem.reason
        found.setdefault(problem.location, reason[:1].upper() + reason[1:] + ".")
    evidence = typed["evidence"]
    if len(evidence) > MAX_EVIDENCE:
        found["evidence"] = (
            f"Evidence must be {MAX_EVIDENCE} characters or fewer (it has {len(evidence):,}): "
            "give a link to the document, or a short description."
        )
    elif _LINK_LIKE.match(evidence) and not _web_link(evidence):
        found.setdefault(
            "evidence",
            "A link must be a web address starting with https:// or http://, with no spaces.",
        )
    order = ("status", "note", "evidence")
    return [Problem(name, found[name]) for name in order if name in found]


def _web_link(text: str) -> bool:
    if not text.lower().startswith(("http://", "https://")) or any(c.isspace() for c in text):
        return False
    parts = urlsplit(text)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
