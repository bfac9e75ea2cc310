"""The board's policy: the validated, frozen values every rule reads.

The configuration adapter (:mod:`audit_core.adapters.config`) reads
``config/*.yaml`` into these models; the rules and use cases only ever see
them, never the files. Each model forbids unknown keys, so a typo in a file
is an error, not a silent default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audit_core.domain.errors import NotFound

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- board.yaml -------------------------------------------------------------


class Area(Frozen):
    id: Slug
    name: str
    # the shape of every case reference of the area (the whole reference must match)
    case_ref_pattern: str = Field(min_length=1, max_length=200)

    @field_validator("case_ref_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(
                f"not a valid regular expression ({exc.msg}); expected a pattern such as "
                r"'^HK-\d{6}$'"
            ) from None
        return value

    def takes_reference(self, reference: str) -> bool:
        """Whether ``reference`` has the shape of this area's case references."""
        return re.fullmatch(self.case_ref_pattern, reference) is not None


class Contact(Frozen):
    name: str
    email: Email
    role: str = ""


class BusinessUnit(Frozen):
    name: str
    email: Email  # the shared mailbox: Reply-To of every task, recipient of alerts
    manager: Contact  # the last escalation step for late returns
    phone: str = ""
    qa_subgroup: Contact | None = None  # receives the weekly digest of the action plan


class Retention(Frozen):
    returns_months: int = Field(ge=1, le=120)  # after the round closes


class OutboxPolicy(Frozen):
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_seconds: int = Field(default=60, ge=1)
    backoff_max_seconds: int = Field(default=3600, ge=1)
    batch_size: int = Field(default=200, ge=1)
    # a message claimed longer ago than this by a dispatcher that never finished is sent again
    lease_seconds: int = Field(default=600, ge=30)


Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Branding(Frozen):
    """How the board's briefings look: its colours, and its logo (an SVG file, relative
    to the configuration folder, drawn inline so that the PDF keeps it as vector)."""

    colour: Colour = "#1d4f6e"  # headings, rules, the chart's bars
    accent: Colour = "#e8f1f6"  # the panels behind prompts and the seven-minute boxes
    logo: str | None = None


class BriefingPolicy(Frozen):
    """The learning briefing: its title, the paragraph on the audit process, who gets it."""

    title: str = "Case Audits"  # printed after the board's short name: "CHSCP Case Audits"
    process: str = Field(min_length=1)  # the paragraph on the six-monthly audit process
    distribution: tuple[Email, ...] = ()  # who receives each issued briefing
    second_approver: bool = True  # approval by someone other than whoever wrote the version
    year_starts_month: int = Field(default=4, ge=1, le=12)  # the board's year: April


class Board(Frozen):
    name: str
    short_name: str
    timezone: str = "Europe/London"
    business_unit: BusinessUnit
    areas: tuple[Area, ...] = Field(min_length=1)
    retention: Retention
    outbox: OutboxPolicy = OutboxPolicy()
    briefing: BriefingPolicy
    branding: Branding = Branding()

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


class RegisterLimits(Frozen):
    """How large a register file an import takes; anything larger is refused unread."""

    max_file_mb: int = Field(default=20, ge=1, le=1024)
    max_rows: int = Field(default=50_000, ge=1, le=10_000_000)  # cases, not counting the header
    # characters in one cell; a CSV cannot hold a field longer than 131,072 in any case
    max_field_chars: int = Field(default=500, ge=16, le=100_000)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


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


# --- themes.yaml ------------------------------------------------------------


class Policy(Frozen):
    title: str
    url: str = Field(pattern=r"^https?://")


class Theme(Frozen):
    id: Slug
    name: str
    prompt: str  # the practice question put to practitioners
    policy: Policy | None = None


# --- cadence.yaml -----------------------------------------------------------


class Escalation(Frozen):
    level: int = Field(ge=1)
    after_due: int = Field(ge=0)  # working days after the deadline
    to: Literal["agency_lead", "business_unit_manager"]


DAYTIME = r"^(0[4-9]|1\d|2[0-3]):[0-5]\d$"  # 04:00 to 23:59


class ActionFollowUp(Frozen):
    """How actions are followed up, in working days around each action's due date, and
    the rule that gives an action its RAG rating."""

    reminders_before_due: tuple[int, ...] = Field(default=(10, 0))  # 0 = on the due date
    overdue_after: int = Field(default=1, ge=1, le=60)  # the overdue reminder to its owner
    escalate_after: int = Field(default=5, ge=1, le=120)  # to the owner's agency lead
    # RAG: red once overdue; amber when due within amber_within working days and not
    # yet started (open), or overdue by none but with no update for stale_after days;
    # green otherwise (and once done).
    amber_within: int = Field(default=20, ge=0, le=250)
    stale_after: int = Field(default=40, ge=1, le=250)  # working days without an update
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri"] = "mon"

    @field_validator("reminders_before_due")
    @classmethod
    def _sorted(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(v < 0 for v in value):
            raise ValueError("reminder offsets are working days before the due date (0 or more)")
        return tuple(sorted(set(value), reverse=True))


class Cadence(Frozen):
    returns_due: int = Field(ge=1, le=120)  # working days from launch to deadline
    reminders_before_due: tuple[int, ...] = Field(default=(5, 0))  # 0 = on the day
    escalations: tuple[Escalation, ...] = ()
    audit_day_after_due: int = Field(ge=0, le=120)
    briefing_due_after_audit_day: int = Field(ge=0, le=120)
    actions_due_months: int = Field(default=6, ge=1, le=24)
    action_follow_up: ActionFollowUp = ActionFollowUp()
    # times of day in the board's zone, kept out of the small hours, when clocks change
    launch_time: str = Field(default="09:00", pattern=DAYTIME)
    chase_time: str = Field(default="08:00", pattern=DAYTIME)

    @field_validator("reminders_before_due")
    @classmethod
    def _non_negative(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(v < 0 for v in value):
            raise ValueError("reminder offsets are working days before the deadline (0 or more)")
        return tuple(sorted(set(value), reverse=True))


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
    register_limits: RegisterLimits = RegisterLimits()
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
    items = tuple(items)
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items)
    raise NotFound(f"There is no {kind} '{item_id}' in the configuration (known: {known}).")
