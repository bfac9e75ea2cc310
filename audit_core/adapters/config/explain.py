"""Explaining a schema problem in the words of the person editing the file."""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from audit_core.domain.errors import Problem

SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "credential")


def problems_from(display: str, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _key_path(loc)
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = _unknown_key_reason(str(loc[-1]), _keys_at(model, loc[:-1]))
        elif err["type"] == "missing":
            reason = "required key is missing"
        elif err["type"] == "string_pattern_mismatch":
            reason = _pattern_reason(key, err.get("input"))
        elif key.endswith(("launch_time", "chase_time")):
            reason = 'expected a time of day in quotes, e.g. "09:00"'
        elif err["type"] == "value_error":
            reason = str(err.get("ctx", {}).get("error", reason))
        problems.append(Problem(display, key, reason))
    return problems


def _unknown_key_reason(name: str, expected: list[str]) -> str:
    if any(word in name.lower() for word in SECRET_WORDS):
        return (
            "unknown key: secrets never belong in configuration files; set them in the "
            "environment instead (e.g. AUDITROUND_SMTP_PASSWORD)"
        )
    reason = "unknown key (check the spelling)"
    close = difflib.get_close_matches(name, expected, n=1)
    if close:
        reason = f"unknown key (did you mean '{close[0]}'?)"
    if expected:
        reason += f"; expected one of: {', '.join(expected)}"
    return reason


def _keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a mapping at ``loc`` may have, found by walking the schema."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue  # an item of a list: the field's type already names the item's model
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field is not None else None
    return list(current.model_fields) if current is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _pattern_reason(key: str, value: object) -> str:
    if key.endswith("email"):
        return f"expected an email address, got {value!r}"
    if key.endswith("url"):
        return f"expected a web address starting with http:// or https://, got {value!r}"
    if key.endswith(("launch_time", "chase_time")):
        return (
            f'expected a time of day from "04:00" to "23:59" as HH:MM in quotes, got {value!r} '
            "(clocks change in the small hours)"
        )
    if re.search(r"(^|\.)id$|\]$|areas|agency", key):
        return f"expected an identifier of lower-case letters, digits, '-' or '_', got {value!r}"
    return f"{value!r} is not in the expected form"
