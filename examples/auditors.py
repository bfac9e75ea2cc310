"""Simulated auditors for the rehearsal: they answer their task emails through the portal.

The portal runs for real (uvicorn on a loopback port, in a thread) over the demo's
database, with a clock the rehearsal moves from day to day. Each auditor finds the
link in the task email the local mail server received and uses it as a browser
would: GET the form, POST a draft, POST the submission.

Who does what is fixed, so the rehearsal tells the same story each time:

- the first task is **declined** ("not our agency's case");
- the second auditor raises an **immediate safeguarding concern** in a draft, then
  submits;
- of the rest, about two in three save a draft early and **submit on time**, about
  one in six **submit late** (after the first escalation), and the others **never
  submit**, so their agency leads hear of it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from audit_core.adapters.smtp_sink import Received
from audit_core.bootstrap import App
from audit_core.domain.policy import BoardConfig
from audit_core.portal.server import make_server

GOOD_PRACTICE = "Agencies met within a week and agreed who would do what."
DEVELOPMENT = "The plan did not say how progress would be measured."
LINK = re.compile(r"https?://\S+?/return/([A-Za-z0-9_-]{43})")


# What the simulated auditors found: a strength (theme, key phrase, text) and a lesson
# (theme, text) each, drawn from these by the task, so that the collation has themes
# that recur and themes found once.
STRENGTHS = (
    (
        "information-sharing",
        "shared the same day",
        "Concerns raised by the school were shared with the GP and children's social care "
        "the same day.",
    ),
    (
        "multi-agency-working",
        "well attended strategy meetings",
        "The record shows well attended strategy meetings that agreed who would do what.",
    ),
    (
        "voice-of-the-child",
        "seen and spoken to alone",
        "The child was seen and spoken to alone at every visit, and their wishes recorded.",
    ),
    (
        "partnership-with-parents",
        "honest conversations with parents",
        "Workers kept up open and honest conversations with parents, even when the news was hard.",
    ),
    (
        "think-family",
        "the adults' needs assessed too",
        "The mother's own mental health needs were assessed alongside the children's.",
    ),
)
LESSONS = (
    ("engaging-fathers", "The father was not asked to take part in the assessment."),
    ("escalation-and-challenge", "A disagreement over the threshold was not escalated."),
    ("information-sharing", "The GP was not told when the plan changed."),
    ("silent-child", "The quieter sibling's needs were not assessed on their own."),
    ("domestic-abuse-safety-planning", "The safety plan was not referred to in the child's plan."),
)
# A round of another focus finds some of the same lessons (the board's well established
# findings) and some of its own.
LESSONS_BY_FOCUS = {
    "neglect-mental-health": (
        ("engaging-fathers", "The father's part in the child's care was not explored."),
        ("low-mood-and-neglect", "The parent's low mood was not linked to the home's neglect."),
        ("thresholds", "Agencies disagreed on whether the threshold for a plan was met."),
        ("silent-child", "The younger children were not spoken to on their own."),
    ),
}


@dataclass
class Clock:
    """The portal's time: the rehearsal sets it before each round of visits."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(frozen=True)
class Task:
    """One task email as its auditor received it."""

    to: str
    case_ref: str
    token: str


def tasks_in(messages: list[Received]) -> list[Task]:
    """The task emails (those with a return link), in the order they arrived."""
    found: dict[str, Task] = {}
    for message in messages:
        parsed = message.parsed()
        body = parsed.get_body(preferencelist=("plain",))
        text = str(body.get_content()) if body is not None else ""
        match = LINK.search(text)
        case = re.search(r"[A-Z]{2}-\d+", str(parsed["Subject"]))
        if match and case:
            found[match.group(1)] = Task(message.rcpt_tos[0], case.group(0), match.group(1))
    return list(found.values())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def portal(app: App) -> Iterator[str]:
    """The portal, served as ``auditround portal`` serves it, on a loopback port for the
    block's length (its log kept to warnings); yields its base address."""
    port = _free_port()
    server = make_server(app, "127.0.0.1", port)
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    thread = threading.Thread(target=server.run, name="demo-portal", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Auditors:
    """The simulated auditors of one round, visiting the portal at ``base``."""

    def __init__(self, config: BoardConfig, base: str, tasks: list[Task], focus: str) -> None:
        self.config, self.base = config, base
        self.tasks = tasks
        self.lessons = LESSONS_BY_FOCUS.get(focus, LESSONS)
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.done: dict[str, str] = {}  # token -> what happened

    def role(self, index: int) -> str:
        if index == 0:
            return "declines"
        if index == 1:
            return "concern"
        return ("on-time", "on-time", "late", "on-time", "on-time", "never")[index % 6]

    def visit(self, stage: str) -> dict[str, int]:
        """What each auditor does at this stage: ``early``, ``due`` or ``late``."""
        counts: dict[str, int] = {}
        for index, task in enumerate(self.tasks):
            action = self._act(stage, self.role(index), task)
            if action:
                counts[action] = counts.get(action, 0) + 1
                self.done[task.token] = action
        return counts

    def _act(self, stage: str, role: str, task: Task) -> str | None:
        link = f"/return/{task.token}"
        if stage == "early" and role == "declines":
            self._ok(self.http.get(link))
            reason = "This child is not known to our service: the register lists us in error."
            self._ok(self.http.post(f"{link}/decline", data={"reason": reason}))
            return "declined"
        if stage == "early" and role in ("on-time", "concern", "late"):
            self._ok(self.http.get(link))
            answers = self._answers(task, half=True, concern=role == "concern")
            self._ok(self.http.post(link, data={"intent": "save", **answers}))
            return "draft saved"
        submit_now = (stage == "due" and role in ("on-time", "concern")) or (
            stage == "late" and role == "late"
        )
        if submit_now:
            fields = {"intent": "submit", **self._answers(task, concern=role == "concern")}
            answer = self.http.post(link, data=fields)
            if answer.status_code != 303:
                raise RuntimeError(f"a return for {task.case_ref} was refused: {answer.text[:200]}")
            return "submitted late" if stage == "late" else "submitted"
        return None

    def _ok(self, answer: httpx.Response) -> None:
        if answer.status_code >= 400:
            raise RuntimeError(f"the portal answered {answer.status_code} to {answer.url}")

    def _answers(self, task: Task, *, half: bool = False, concern: bool = False) -> dict[str, Any]:
        """A return: grades that differ from auditor to auditor, and the same few findings."""
        tool = self.config.audit_tool
        grades = [g.id for g in self.config.scale.grades]
        sections = tool.sections[: len(tool.sections) // 2] if half else tool.sections
        fields: dict[str, Any] = {}
        spread = sum(map(ord, task.to + task.case_ref))  # the same task, the same grades
        for n, section in enumerate(sections):
            fields[f"grade-{section.id}"] = grades[(spread + n * n) % len(grades)]
            fields[f"good-{section.id}"] = (
                "Agencies met within a week and agreed who would do what."
            )
            fields[f"develop-{section.id}"] = "The plan did not say how progress would be measured."
        strength = STRENGTHS[spread % len(STRENGTHS)]
        lesson = self.lessons[(spread // 7) % len(self.lessons)]
        fields |= {
            "strength-1-theme": strength[0],
            "strength-1-phrase": strength[1],
            "strength-1-text": strength[2],
            "lesson-1-theme": lesson[0],
            "lesson-1-text": lesson[1],
        }
        if concern:
            fields["concern"] = "yes"
            fields["concern_text"] = "A new adult has moved into the home; nobody has checked who."
        return fields

    def close(self) -> None:
        self.http.close()
