"""Board configuration: policy in ``config/*.yaml``, validated into frozen models.

Each file holds one part of the board's policy:

========================  ====================================================
``board.yaml``            the board, its business unit, areas, retention, outbox
``agencies.yaml``         partner agencies and their leads
``people.yaml``           auditors (and the business unit's own contacts)
``register.yaml``         case categories, age bands and flags of the register
``focuses.yaml``          audit focuses and their selection criteria
``audit_tool.yaml``       grading scales and the versioned audit tool
``themes.yaml``           the theme taxonomy with practice prompts and policies
``cadence.yaml``          the round timeline in working days
========================  ====================================================

:func:`load_config` reads every file, collects *every* problem (file, key,
what was expected) and raises one :class:`ConfigError` listing them all; then
it checks cross-references (an auditor's agency exists, a focus's categories
exist, ...). Secrets never live here: they come from the environment.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from audit_core.errors import ConfigError, Problem

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- board.yaml -------------------------------------------------------------


class Area(Frozen):
    id: Slug
    name: str


class Contact(Frozen):
    name: str
    email: Email
    role: str = ""


class BusinessUnit(Frozen):
    name: str
    email: Email  # the shared mailbox: Reply-To of every task, recipient of alerts
    manager: Contact  # the last escalation step for late returns
    phone: str = ""


class Retention(Frozen):
    returns_months: int = Field(ge=1, le=120)  # after the round closes


class OutboxPolicy(Frozen):
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_seconds: int = Field(default=60, ge=1)
    backoff_max_seconds: int = Field(default=3600, ge=1)
    batch_size: int = Field(default=200, ge=1)
    # a message claimed longer ago than this by a dispatcher that never finished is sent again
    lease_seconds: int = Field(default=600, ge=30)


class Board(Frozen):
    name: str
    short_name: str
    timezone: str = "Europe/London"
    business_unit: BusinessUnit
    areas: tuple[Area, ...] = Field(min_length=1)
    retention: Retention
    outbox: OutboxPolicy = OutboxPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (expected a name such as 'Europe/London')"
            ) from None
        return value


class BoardFile(Frozen):
    board: Board


# --- agencies.yaml ----------------------------------------------------------

Sector = Literal[
    "social_care",
    "police",
    "health",
    "education",
    "probation",
    "early_help",
    "housing",
    "substance_misuse",
    "youth_justice",
    "other",
]


class Agency(Frozen):
    id: Slug
    name: str
    sector: Sector
    areas: tuple[str, ...] = Field(min_length=1)
    lead: Contact


class AgenciesFile(Frozen):
    agencies: tuple[Agency, ...] = Field(min_length=1)


# --- people.yaml ------------------------------------------------------------


class Auditor(Frozen):
    id: Slug
    name: str
    email: Email
    agency: str
    areas: tuple[str, ...] = Field(min_length=1)
    capacity: int = Field(ge=0, le=50)  # cases per round
    practitioner_ids: tuple[str, ...] = ()  # ids under which they appear in the register
    active: bool = True


class PeopleFile(Frozen):
    auditors: tuple[Auditor, ...] = Field(min_length=1)
    business_unit: tuple[Contact, ...] = ()


# --- register.yaml ----------------------------------------------------------


class Category(Frozen):
    id: Slug
    name: str


class AgeBand(Frozen):
    id: str = Field(pattern=r"^[0-9a-z+_-]+$")
    name: str


class Flag(Frozen):
    id: Slug
    name: str
    excludes_selection: bool = False  # e.g. under a live review, or in court


class RegisterFile(Frozen):
    categories: tuple[Category, ...] = Field(min_length=1)
    age_bands: tuple[AgeBand, ...] = Field(min_length=1)
    flags: tuple[Flag, ...] = ()


# --- focuses.yaml -----------------------------------------------------------


class Focus(Frozen):
    id: Slug
    name: str
    description: str = ""
    categories: tuple[str, ...] = Field(min_length=1)
    flags_any: tuple[str, ...] = ()  # a case must carry at least one of these (if any)
    lookback_months: int = Field(ge=1, le=36)  # activity within this window
    min_agencies: int = Field(default=2, ge=1, le=20)
    exclusion_months: int = Field(default=12, ge=0, le=60)  # not audited within this
    # one number for every area, or a number per area id ({hackney: 5, city: 3})
    cases_per_area: (
        Annotated[int, Field(ge=1, le=100)] | dict[str, Annotated[int, Field(ge=1, le=100)]]
    ) = 4
    themes: tuple[str, ...] = ()

    def quota(self, area_id: str) -> int | None:
        """How many cases to select in this area (None: the focus names no number for it)."""
        if isinstance(self.cases_per_area, int):
            return self.cases_per_area
        return self.cases_per_area.get(area_id)


class FocusesFile(Frozen):
    focuses: tuple[Focus, ...] = Field(min_length=1)


# --- audit_tool.yaml --------------------------------------------------------


class Grade(Frozen):
    id: Slug
    label: str
    score: int  # higher is better; used for averages in collation


class Scale(Frozen):
    id: Slug
    name: str
    grades: tuple[Grade, ...] = Field(min_length=2)


class Section(Frozen):
    id: Slug
    title: str
    guidance: str = ""


class AuditTool(Frozen):
    id: Slug
    version: int = Field(ge=1)
    name: str
    scale: str
    sections: tuple[Section, ...] = Field(min_length=1)


class AuditToolFile(Frozen):
    scales: tuple[Scale, ...] = Field(min_length=1)
    audit_tool: AuditTool


# --- themes.yaml ------------------------------------------------------------


class Policy(Frozen):
    title: str
    url: str = Field(pattern=r"^https?://")


class Theme(Frozen):
    id: Slug
    name: str
    prompt: str  # the practice question put to practitioners
    policy: Policy | None = None


class ThemesFile(Frozen):
    themes: tuple[Theme, ...] = Field(min_length=1)


# --- cadence.yaml -----------------------------------------------------------


class Escalation(Frozen):
    level: int = Field(ge=1)
    after_due: int = Field(ge=0)  # working days after the deadline
    to: Literal["agency_lead", "business_unit_manager"]


class Cadence(Frozen):
    returns_due: int = Field(ge=1, le=120)  # working days from launch to deadline
    reminders_before_due: tuple[int, ...] = Field(default=(5, 0))  # 0 = on the day
    escalations: tuple[Escalation, ...] = ()
    audit_day_after_due: int = Field(ge=0, le=120)
    briefing_due_after_audit_day: int = Field(ge=0, le=120)
    actions_due_months: int = Field(default=6, ge=1, le=24)
    launch_time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @field_validator("reminders_before_due")
    @classmethod
    def _non_negative(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(v < 0 for v in value):
            raise ValueError("reminder offsets are working days before the deadline (0 or more)")
        return tuple(sorted(set(value), reverse=True))


class CadenceFile(Frozen):
    cadence: Cadence


# --- the whole configuration --------------------------------------------------


class BoardConfig(Frozen):
    """The validated configuration of one board."""

    board: Board
    agencies: tuple[Agency, ...]
    auditors: tuple[Auditor, ...]
    business_unit_contacts: tuple[Contact, ...]
    categories: tuple[Category, ...]
    age_bands: tuple[AgeBand, ...]
    flags: tuple[Flag, ...]
    focuses: tuple[Focus, ...]
    scales: tuple[Scale, ...]
    audit_tool: AuditTool
    themes: tuple[Theme, ...]
    cadence: Cadence
    source: str = ""

    def area(self, area_id: str) -> Area:
        return _find(self.board.areas, area_id, "area")

    def agency(self, agency_id: str) -> Agency:
        return _find(self.agencies, agency_id, "agency")

    def focus(self, focus_id: str) -> Focus:
        return _find(self.focuses, focus_id, "focus")

    def theme(self, theme_id: str) -> Theme:
        return _find(self.themes, theme_id, "theme")

    @property
    def scale(self) -> Scale:
        return _find(self.scales, self.audit_tool.scale, "scale")


def _find(items: Iterable[Any], item_id: str, kind: str) -> Any:
    from audit_core.errors import NotFound

    items = tuple(items)
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items)
    raise NotFound(f"There is no {kind} '{item_id}' in the configuration (known: {known}).")


def default_config_dir() -> Path:
    return Path(os.environ.get("AUDITROUND_CONFIG", "config"))


SCHEMA: dict[str, type[Frozen]] = {
    "board.yaml": BoardFile,
    "agencies.yaml": AgenciesFile,
    "people.yaml": PeopleFile,
    "register.yaml": RegisterFile,
    "focuses.yaml": FocusesFile,
    "audit_tool.yaml": AuditToolFile,
    "themes.yaml": ThemesFile,
    "cadence.yaml": CadenceFile,
}


def load_config(directory: Path | str | None = None) -> BoardConfig:
    """Read and validate every configuration file; raise one ConfigError listing all problems.

    1. Read each file as YAML (a duplicated key is refused, not silently overwritten).
    2. Validate each file against its schema, collecting every problem of every file.
    3. Check the cross-references with every entry that is valid on its own
       (see :mod:`audit_core.config_checks`), so that one broken entry does
       not hide the problems of the others.
    4. Raise one ConfigError with everything found, each problem with the line
       it is on and in the order of the files, or return the frozen config.
    """
    root = Path(directory) if directory is not None else default_config_dir()
    if not root.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(root), "", "the configuration folder does not exist (set AUDITROUND_CONFIG)"
                )
            ]
        )
    from audit_core import config_checks

    problems: list[Problem] = []
    raws: dict[str, dict[str, Any]] = {}
    nodes: dict[str, yaml.Node] = {}
    parsed: dict[str, Any] = {}
    for name, model in SCHEMA.items():
        path = root / name
        display = str(path)
        if not path.is_file():
            problems.append(Problem(display, "", "the file is missing"))
            continue
        try:
            raw, node = _read_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(_yaml_problem(display, exc))
            continue
        except UnicodeDecodeError:
            problems.append(Problem(display, "", "not UTF-8 text"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(display, "", "expected a mapping at the top of the file"))
            continue
        raws[name] = raw
        if node is not None:
            nodes[display] = node
        try:
            parsed[name] = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems_from(display, model, exc))
    problems.extend(config_checks.cross_check(config_checks.Parts.of_files(raws, parsed), root))
    if problems:
        raise ConfigError(_with_lines(problems, nodes, [str(root / name) for name in SCHEMA]))
    return BoardConfig(
        board=parsed["board.yaml"].board,
        agencies=parsed["agencies.yaml"].agencies,
        auditors=parsed["people.yaml"].auditors,
        business_unit_contacts=parsed["people.yaml"].business_unit,
        categories=parsed["register.yaml"].categories,
        age_bands=parsed["register.yaml"].age_bands,
        flags=parsed["register.yaml"].flags,
        focuses=parsed["focuses.yaml"].focuses,
        scales=parsed["audit_tool.yaml"].scales,
        audit_tool=parsed["audit_tool.yaml"].audit_tool,
        themes=parsed["themes.yaml"].themes,
        cadence=parsed["cadence.yaml"].cadence,
        source=str(root),
    )


# --- reading YAML -------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, except that a key given twice in one mapping is an error."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # an unhashable key; the schema reports it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key '{key}' is given twice (first on line {first + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data, and its node tree (which knows the line of every key)."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


_KEY_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _line_of(node: yaml.Node, key_path: str) -> int | None:
    """The line of the deepest part of ``key_path`` present in the file (1-based)."""
    line = None
    for match in _KEY_PART.finditer(key_path):
        index, key = match.groups()
        if index is not None and isinstance(node, yaml.SequenceNode):
            if int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        elif key is not None and isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                break
        else:
            break
    return line


def _with_lines(
    problems: list[Problem], nodes: dict[str, yaml.Node], file_order: list[str]
) -> list[Problem]:
    """Add the line to each key path, and sort the problems by file and line."""
    located: list[tuple[int, int, int, Problem]] = []
    for position, problem in enumerate(problems):
        node = nodes.get(problem.file)
        line = _line_of(node, problem.location) if node is not None and problem.location else None
        if line is not None:
            problem = Problem(problem.file, f"{problem.location} (line {line})", problem.reason)
        order = file_order.index(problem.file) if problem.file in file_order else len(file_order)
        located.append((order, line or 0, position, problem))
    return [problem for *_, problem in sorted(located, key=lambda item: item[:3])]


def _yaml_problem(display: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    detail = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line != getattr(mark, "line", None):
        detail += f", {context} begun on line {context_mark.line + 1}"
    return Problem(display, where, f"not valid YAML ({detail})")


# --- explaining schema problems --------------------------------------------------

SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "credential")


def _problems_from(display: str, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
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
        elif key.endswith("launch_time"):
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
    if key.endswith("launch_time"):
        return f'expected a time of day as HH:MM in quotes, e.g. "09:00", got {value!r}'
    if re.search(r"(^|\.)id$|\]$|areas|agency", key):
        return f"expected an identifier of lower-case letters, digits, '-' or '_', got {value!r}"
    return f"{value!r} is not in the expected form"
