"""A briefing's content as plain data: what a version stores, and what an edited file holds.

:func:`to_data` gives the content as a mapping of text, numbers, flags and lists, the
keys named as :mod:`audit_core.domain.briefing` names its fields; a version's
``content`` column keeps it, and ``auditround briefing edit FILE --start`` writes it
out as YAML. :func:`from_data` reads such a mapping back, checking all of it: every
problem (a missing or unknown key, text where a list is expected, text over its
limit, a link that is not http(s), a summary that looks like it holds a date, a
postcode or an NHS number) is listed at once with its key path
(``rounds[0].lessons[2].prompts[1]``), and nothing is read unless there is none.

The shape (YAML)::

    title: CHSCP Case Audits
    area_id: hackney
    scope: 2026-H1
    ...
    rounds:
      - round_id: 2026-H1
        heading: Think Family
        cases: [{label: Case 1, summary: ...}]
        strengths: [{theme_id: .., heading: .., intro: .., items: [{key_phrase: .., text: ..}]}]
        lessons: [{theme_id: .., heading: .., text: .., prompts: [..],
                   links: [{title: .., url: ..}], recurring: false}]
        grades: [{grade_id: good, label: Good, count: 2}]

Keys with a default may be left out: ``introduction``, ``lessons_note``, ``intro``,
``key_phrase`` (empty), ``prompts``, ``links`` (none), ``recurring`` (false),
``strengths_by_theme`` (true), ``actions`` (none: content stored before the briefing
reported on earlier actions reads as it was) and an action's ``progress`` (empty).

The earlier rounds' actions (carry-over), after the rounds::

    actions:
      - {round_id: 2025-H2, theme_id: engaging-fathers, heading: .., text: ..,
         agency: .., due_on: 14 November 2026, status: in_progress, rag: amber,
         progress: ..}
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from audit_core.domain.briefing import (
    ActionProgress,
    BriefingContent,
    CaseSummary,
    GradeCount,
    Lesson,
    Link,
    RoundPart,
    Strength,
    StrengthGroup,
)
from audit_core.domain.errors import AuditRoundError, Problem, ProblemsError
from audit_core.domain.models import ActionStatus
from audit_core.domain.periods import parse_round_id
from audit_core.domain.privacy import identifying_value

SHORT = 200  # characters: titles, headings, labels, key phrases, ids
PARAGRAPH = 3000  # a summary, a lesson's text, the process paragraph
PROMPT = 500
URL = 500
MAX_ITEMS = {  # how many of each a briefing may hold
    "rounds": 12,
    "cases": 50,
    "strengths": 30,
    "items": 30,
    "lessons": 30,
    "prompts": 10,
    "links": 10,
    "grades": 20,
    "actions": 60,
}
STATUSES = tuple(s.value for s in ActionStatus)
RAGS = ("red", "amber", "green")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

_T = TypeVar("_T")


class BriefingFileError(ProblemsError):
    headline = "The briefing was not read; nothing was changed"


def to_data(content: BriefingContent) -> dict[str, Any]:
    """The content as a plain mapping (lists, not tuples), keys in the fields' order."""
    plain = _plain(content)
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def from_data(data: Any, source: str) -> BriefingContent:
    """Read a briefing's content from plain data; every problem at once, named by key path."""
    reader = _Reader(source)
    content = reader.content(data)
    if reader.problems or content is None:
        raise BriefingFileError(reader.problems)
    return content


class _Reader:
    """Reads one mapping after another, keeping every problem it meets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.source, path, reason))

    def content(self, data: Any) -> BriefingContent | None:
        optional = {"introduction": "", "actions": []}
        fields = self.fields(data, "", BriefingContent, optional=optional)
        if fields is None:
            return None
        rounds = self.many(fields, "rounds", "", self.round_part)
        actions = self.many(fields, "actions", "", self.action)
        return BriefingContent(
            board_name=self.text(fields, "board_name", ""),
            board_short_name=self.text(fields, "board_short_name", ""),
            title=self.text(fields, "title", ""),
            area_id=self.slug(fields, "area_id", ""),
            area_name=self.text(fields, "area_name", ""),
            scope=self.text(fields, "scope", ""),
            period=self.text(fields, "period", ""),
            introduction=self.text(fields, "introduction", "", limit=PARAGRAPH, empty=True),
            process=self.text(fields, "process", "", limit=PARAGRAPH),
            rounds=rounds,
            actions=actions,
        )

    def round_part(self, data: Any, path: str) -> RoundPart | None:
        optional = {"lessons_note": "", "strengths_by_theme": True}
        fields = self.fields(data, path, RoundPart, optional=optional)
        if fields is None:
            return None
        return RoundPart(
            round_id=self.round_id(fields, path),
            heading=self.text(fields, "heading", path),
            period=self.text(fields, "period", path),
            cases=self.many(fields, "cases", path, self.case),
            strengths=self.many(fields, "strengths", path, self.strength_group),
            lessons=self.many(fields, "lessons", path, self.lesson),
            grades=self.many(fields, "grades", path, self.grade),
            lessons_note=self.text(fields, "lessons_note", path, limit=PARAGRAPH, empty=True),
            strengths_by_theme=self.flag(fields, "strengths_by_theme", path),
        )

    def case(self, data: Any, path: str) -> CaseSummary | None:
        fields = self.fields(data, path, CaseSummary)
        if fields is None:
            return None
        return CaseSummary(
            label=self.text(fields, "label", path),
            summary=self.text(fields, "summary", path, limit=PARAGRAPH, empty=True, private=True),
        )

    def strength_group(self, data: Any, path: str) -> StrengthGroup | None:
        fields = self.fields(data, path, StrengthGroup, optional={"intro": ""})
        if fields is None:
            return None
        return StrengthGroup(
            theme_id=self.slug(fields, "theme_id", path),
            heading=self.text(fields, "heading", path),
            intro=self.text(fields, "intro", path, limit=PARAGRAPH, empty=True, private=True),
            items=self.many(fields, "items", path, self.strength),
        )

    def strength(self, data: Any, path: str) -> Strength | None:
        fields = self.fields(data, path, Strength, optional={"key_phrase": ""})
        if fields is None:
            return None
        return Strength(
            key_phrase=self.text(fields, "key_phrase", path, empty=True, private=True),
            text=self.text(fields, "text", path, limit=PARAGRAPH, private=True),
        )

    def lesson(self, data: Any, path: str) -> Lesson | None:
        optional = {"prompts": [], "links": [], "recurring": False}
        fields = self.fields(data, path, Lesson, optional=optional)
        if fields is None:
            return None
        return Lesson(
            theme_id=self.slug(fields, "theme_id", path),
            heading=self.text(fields, "heading", path),
            text=self.text(fields, "text", path, limit=PARAGRAPH, private=True),
            prompts=self.many(fields, "prompts", path, self.prompt),
            links=self.many(fields, "links", path, self.link),
            recurring=self.flag(fields, "recurring", path),
        )

    def action(self, data: Any, path: str) -> ActionProgress | None:
        """An earlier round's action: a briefing names its owner's agency, never a person,
        and no text that could identify a child (a date is its due date's business)."""
        fields = self.fields(data, path, ActionProgress, optional={"progress": ""})
        if fields is None:
            return None
        theme_id = self.text(fields, "theme_id", path, limit=64, empty=True)
        if theme_id and not SLUG.match(theme_id):
            self.problem(
                _join(path, "theme_id"), "expected an id of lower-case letters, digits and hyphens"
            )
        return ActionProgress(
            round_id=self.round_id(fields, path),
            theme_id=theme_id,
            heading=self.text(fields, "heading", path),
            text=self.text(fields, "text", path, limit=PARAGRAPH, private=True, dates=False),
            agency=self.text(fields, "agency", path, empty=True),
            due_on=self.text(fields, "due_on", path),
            status=self.choice(fields, "status", path, STATUSES),
            rag=self.choice(fields, "rag", path, RAGS, empty=True),
            progress=self.text(fields, "progress", path, empty=True, private=True, dates=False),
        )

    def prompt(self, data: Any, path: str) -> str | None:
        return self.check_text(data, path, limit=PROMPT, empty=False, private=False)

    def link(self, data: Any, path: str) -> Link | None:
        fields = self.fields(data, path, Link)
        if fields is None:
            return None
        url = self.text(fields, "url", path, limit=URL)
        if url and not _web_address(url):
            self.problem(f"{path}.url", "expected a web address starting http:// or https://")
        return Link(title=self.text(fields, "title", path), url=url)

    def grade(self, data: Any, path: str) -> GradeCount | None:
        fields = self.fields(data, path, GradeCount)
        if fields is None:
            return None
        count = fields.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            self.problem(f"{path}.count", "expected a whole number of cases, 0 or more")
            count = 0
        return GradeCount(
            grade_id=self.slug(fields, "grade_id", path),
            label=self.text(fields, "label", path),
            count=count,
        )

    # --- the pieces ----------------------------------------------------------------------

    def fields(
        self, data: Any, path: str, kind: type, *, optional: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The mapping at ``path`` with the keys of ``kind``'s fields: unknown keys and
        missing ones (those not in ``optional``, which gives their defaults) are problems."""
        if not isinstance(data, Mapping):
            self.problem(path, f"expected a mapping of keys, got {_kind(data)}")
            return None
        names = [f.name for f in dataclasses.fields(kind)]
        defaults = dict(optional or {})
        for key in data:
            if key not in names:
                expected = ", ".join(names)
                self.problem(_join(path, str(key)), f"unknown key (expected: {expected})")
        for name in names:
            if name not in data and name not in defaults:
                self.problem(_join(path, name), "missing")
        return {**defaults, **{k: v for k, v in data.items() if k in names}}

    def many(
        self,
        fields: Mapping[str, Any],
        key: str,
        path: str,
        read: Callable[[Any, str], _T | None],
    ) -> tuple[_T, ...]:
        """The list under ``key``, each item read by ``read`` at its own path."""
        where, value = _join(path, key), fields.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            self.problem(where, f"expected a list, got {_kind(value)}")
            return ()
        if len(value) > MAX_ITEMS[key]:
            self.problem(where, f"at most {MAX_ITEMS[key]} items, not {len(value)}")
        read_items = (read(item, f"{where}[{n}]") for n, item in enumerate(value))
        return tuple(item for item in read_items if item is not None)

    def text(
        self,
        fields: Mapping[str, Any],
        key: str,
        path: str,
        *,
        limit: int = SHORT,
        empty: bool = False,
        private: bool = False,
        dates: bool = True,
    ) -> str:
        if key not in fields:
            return ""  # a missing key is a problem already
        found = self.check_text(
            fields[key], _join(path, key), limit=limit, empty=empty, private=private, dates=dates
        )
        return found or ""

    def check_text(
        self, value: Any, path: str, *, limit: int, empty: bool, private: bool, dates: bool = True
    ) -> str | None:
        if value is None and empty:
            return ""
        if not isinstance(value, str):
            self.problem(path, f"expected text, got {_kind(value)} (put it in quotes)")
            return None
        text = value.strip()
        if not text and not empty:
            self.problem(path, "is empty")
        elif len(text) > limit:
            self.problem(path, f"is {len(text)} characters long; at most {limit}")
        elif private and (what := identifying_value(text, dates=dates)) is not None:
            self.problem(
                path,
                f"holds what looks like {what}, which could identify a child: a briefing "
                "names no child (the text is not repeated here)",
            )
        return text

    def choice(
        self,
        fields: Mapping[str, Any],
        key: str,
        path: str,
        allowed: tuple[str, ...],
        *,
        empty: bool = False,
    ) -> str:
        """One of ``allowed`` (or nothing, where ``empty``)."""
        value = self.text(fields, key, path, limit=32, empty=empty)
        if value and value not in allowed:
            self.problem(_join(path, key), f"'{value}' is not one of: {', '.join(allowed)}")
        return value

    def slug(self, fields: Mapping[str, Any], key: str, path: str) -> str:
        value = self.text(fields, key, path, limit=64)
        if value and not SLUG.match(value):
            self.problem(
                _join(path, key), "expected an id of lower-case letters, digits and hyphens"
            )
        return value

    def round_id(self, fields: Mapping[str, Any], path: str) -> str:
        value = self.text(fields, "round_id", path, limit=32)
        if not value:
            return value
        try:
            return parse_round_id(value)
        except AuditRoundError as exc:
            self.problem(_join(path, "round_id"), str(exc))
            return value

    def flag(self, fields: Mapping[str, Any], key: str, path: str) -> bool:
        value = fields.get(key)
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"expected true or false, got {_kind(value)}")
            return False
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url
