"""A subject access request's listing, as plain values, and how its subject is recognised.

``auditround privacy subject-access`` lists everything held about one case reference or
one person (:mod:`audit_core.services.subject_access` gathers it). The listing is a
:class:`Listing` of :class:`Part` s, each a titled list of rows of plain values, so that
the command prints it and writes it as JSON the same way whatever it holds.

A subject is recognised in text by whole values only (:func:`names_reference`,
:func:`holds_value`): the case ``HK-123`` is not named by ``HK-1234``, and an address
matches whatever its case. Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CASE = "case"
PERSON = "person"


@dataclass(frozen=True)
class Part:
    """One kind of thing held (the register's row, the returns, the emails, ...)."""

    key: str  # "returns"
    title: str  # "Returns"
    rows: tuple[dict[str, Any], ...]
    note: str = ""  # what the reader should know about this part

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "note": self.note, "count": len(self.rows)} | {
            "rows": list(self.rows)
        }


@dataclass(frozen=True)
class Listing:
    """Everything held about one subject, part by part."""

    kind: str  # CASE | PERSON
    subject: str  # the case reference, or the person's id or address as asked
    listed_at: dt.datetime
    parts: tuple[Part, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {p.key: len(p.rows) for p in self.parts}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "listed_at": self.listed_at.isoformat(),
            "counts": self.counts,
            "parts": {p.key: p.to_json() for p in self.parts},
        }


def like_pattern(value: str) -> str:
    """A SQL ``LIKE`` pattern (escape character ``\\``) for text containing ``value``."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def names_reference(text: str, reference: str) -> bool:
    """Whether ``text`` names the case ``reference`` as a whole word (not inside a longer
    reference)."""
    return re.search(rf"(?<![\w-]){re.escape(reference)}(?![\w-])", text or "") is not None


def holds_value(data: Any, values: Iterable[str]) -> bool:
    """Whether any string anywhere in ``data`` (nested lists and mappings included) is one
    of ``values``, whatever its case."""
    wanted = {v.casefold() for v in values}

    def walk(item: Any) -> bool:
        if isinstance(item, str):
            return item.casefold() in wanted
        if isinstance(item, dict):
            return any(walk(v) for v in item.values())
        if isinstance(item, (list, tuple)):
            return any(walk(v) for v in item)
        return False

    return walk(data)


def is_address(who: str) -> bool:
    """Whether a person was asked for by email address rather than by id."""
    return "@" in who
