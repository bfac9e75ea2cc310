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

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from audit_core.errors import ConfigError, Problem

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]

CONFIG_FILES = (
    "board.yaml",
    "agencies.yaml",
    "people.yaml",
    "register.yaml",
    "focuses.yaml",
    "audit_tool.yaml",
    "themes.yaml",
    "cadence.yaml",
)


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


class Board(Frozen):
    name: str
    short_name: str
    timezone: str = "Europe/London"
    business_unit: BusinessUnit
    areas: tuple[Area, ...] = Field(min_length=1)
    retention: Retention
    outbox: OutboxPolicy = OutboxPolicy()


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
    cases_per_area: int = Field(default=4, ge=1, le=100)
    themes: tuple[str, ...] = ()


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
    launch_time: str = Field(default="09:00", pattern=r"^\d\d:\d\d$")

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


def load_config(directory: Path | str | None = None) -> BoardConfig:
    """Read and validate every configuration file; raise one ConfigError listing all problems."""
    root = Path(directory) if directory is not None else default_config_dir()
    problems: list[Problem] = []
    if not root.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(root), "", "the configuration folder does not exist (set AUDITROUND_CONFIG)"
                )
            ]
        )
    schema: dict[str, type[Frozen]] = {
        "board.yaml": BoardFile,
        "agencies.yaml": AgenciesFile,
        "people.yaml": PeopleFile,
        "register.yaml": RegisterFile,
        "focuses.yaml": FocusesFile,
        "audit_tool.yaml": AuditToolFile,
        "themes.yaml": ThemesFile,
        "cadence.yaml": CadenceFile,
    }
    parsed: dict[str, Any] = {}
    for name, model in schema.items():
        path = root / name
        display = str(path)
        if not path.is_file():
            problems.append(Problem(display, "", "the file is missing"))
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else ""
            problems.append(
                Problem(display, where, f"not valid YAML ({getattr(exc, 'problem', exc)})")
            )
            continue
        except UnicodeDecodeError:
            problems.append(Problem(display, "", "not UTF-8 text"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(display, "", "expected a mapping at the top of the file"))
            continue
        try:
            parsed[name] = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems_from(display, exc))
    if problems:
        raise ConfigError(problems)

    config = BoardConfig(
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
    problems = check_references(config, root)
    if problems:
        raise ConfigError(problems)
    return config


def _problems_from(display: str, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        key = _key_path(err["loc"])
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling)"
        elif err["type"] == "missing":
            reason = "required key is missing"
        elif err["type"] == "string_pattern_mismatch":
            reason = _pattern_reason(key, err.get("input"))
        problems.append(Problem(display, key, reason))
    return problems


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
    if re.search(r"(^|\.)id$|\]$|areas|agency", key):
        return f"expected an identifier of lower-case letters, digits, '-' or '_', got {value!r}"
    return f"{value!r} is not in the expected form"


def check_references(config: BoardConfig, root: Path) -> list[Problem]:
    """Cross-file checks: every reference names something that exists, ids are unique."""
    problems: list[Problem] = []

    def file(name: str) -> str:
        return str(root / name)

    def unique(name: str, key: str, ids: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                problems.append(
                    Problem(file(name), f"{key}[{index}].id", f"'{item_id}' is used twice")
                )
            seen.add(item_id)
        return seen

    areas = unique("board.yaml", "board.areas", (a.id for a in config.board.areas))
    agencies = unique("agencies.yaml", "agencies", (a.id for a in config.agencies))
    unique("people.yaml", "auditors", (a.id for a in config.auditors))
    categories = unique("register.yaml", "categories", (c.id for c in config.categories))
    unique("register.yaml", "age_bands", (b.id for b in config.age_bands))
    flags = unique("register.yaml", "flags", (f.id for f in config.flags))
    unique("focuses.yaml", "focuses", (f.id for f in config.focuses))
    scales = unique("audit_tool.yaml", "scales", (s.id for s in config.scales))
    unique("audit_tool.yaml", "audit_tool.sections", (s.id for s in config.audit_tool.sections))
    themes = unique("themes.yaml", "themes", (t.id for t in config.themes))

    def known(choices: set[str]) -> str:
        return ", ".join(sorted(choices))

    for i, agency in enumerate(config.agencies):
        for j, area in enumerate(agency.areas):
            if area not in areas:
                problems.append(
                    Problem(
                        file("agencies.yaml"),
                        f"agencies[{i}].areas[{j}]",
                        f"unknown area '{area}' (expected one of: {known(areas)})",
                    )
                )
    agency_areas = {a.id: set(a.areas) for a in config.agencies}
    practitioner_owner: dict[tuple[str, str], str] = {}
    for i, auditor in enumerate(config.auditors):
        key = f"auditors[{i}]"
        if auditor.agency not in agencies:
            problems.append(
                Problem(
                    file("people.yaml"),
                    f"{key}.agency",
                    f"unknown agency '{auditor.agency}' (expected one of: {known(agencies)})",
                )
            )
        for j, area in enumerate(auditor.areas):
            if area not in areas:
                problems.append(
                    Problem(
                        file("people.yaml"),
                        f"{key}.areas[{j}]",
                        f"unknown area '{area}' (expected one of: {known(areas)})",
                    )
                )
            elif auditor.agency in agency_areas and area not in agency_areas[auditor.agency]:
                problems.append(
                    Problem(
                        file("people.yaml"),
                        f"{key}.areas[{j}]",
                        f"agency '{auditor.agency}' does not work in area '{area}'",
                    )
                )
        for pid in auditor.practitioner_ids:
            other = practitioner_owner.get((auditor.agency, pid))
            if other is not None:
                problems.append(
                    Problem(
                        file("people.yaml"),
                        f"{key}.practitioner_ids",
                        f"practitioner id '{pid}' is already given to auditor '{other}'",
                    )
                )
            practitioner_owner[(auditor.agency, pid)] = auditor.id
    for i, focus in enumerate(config.focuses):
        key = f"focuses[{i}]"
        for j, category in enumerate(focus.categories):
            if category not in categories:
                problems.append(
                    Problem(
                        file("focuses.yaml"),
                        f"{key}.categories[{j}]",
                        f"unknown category '{category}' (expected one of: {known(categories)})",
                    )
                )
        for j, flag in enumerate(focus.flags_any):
            if flag not in flags:
                problems.append(
                    Problem(
                        file("focuses.yaml"),
                        f"{key}.flags_any[{j}]",
                        f"unknown flag '{flag}' (expected one of: {known(flags)})",
                    )
                )
        for j, theme in enumerate(focus.themes):
            if theme not in themes:
                problems.append(
                    Problem(
                        file("focuses.yaml"),
                        f"{key}.themes[{j}]",
                        f"unknown theme '{theme}' (expected one of: {known(themes)})",
                    )
                )
    if config.audit_tool.scale not in scales:
        problems.append(
            Problem(
                file("audit_tool.yaml"),
                "audit_tool.scale",
                f"unknown scale '{config.audit_tool.scale}' (expected one of: {known(scales)})",
            )
        )
    for i, scale in enumerate(config.scales):
        seen_grades: set[str] = set()
        for j, grade in enumerate(scale.grades):
            if grade.id in seen_grades:
                problems.append(
                    Problem(
                        file("audit_tool.yaml"),
                        f"scales[{i}].grades[{j}].id",
                        f"grade '{grade.id}' is used twice",
                    )
                )
            seen_grades.add(grade.id)
    levels = [e.level for e in config.cadence.escalations]
    if levels != sorted(set(levels)):
        problems.append(
            Problem(
                file("cadence.yaml"),
                "cadence.escalations",
                "escalation levels must be distinct and in increasing order",
            )
        )
    offsets = [e.after_due for e in config.cadence.escalations]
    if offsets != sorted(offsets):
        problems.append(
            Problem(
                file("cadence.yaml"),
                "cadence.escalations",
                "later escalation levels must not come before earlier ones",
            )
        )
    if (
        config.cadence.reminders_before_due
        and max(config.cadence.reminders_before_due) >= config.cadence.returns_due
    ):
        problems.append(
            Problem(
                file("cadence.yaml"),
                "cadence.reminders_before_due",
                "a reminder would fall on or before the launch day",
            )
        )
    return problems
