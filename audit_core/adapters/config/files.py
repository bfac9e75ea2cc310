"""The shape of each configuration file: which keys it holds, as policy models.

Each file holds one part of the board's policy:

========================  ====================================================
``board.yaml``            the board, its business unit, areas, retention, outbox
``agencies.yaml``         partner agencies and their leads
``people.yaml``           auditors (and the business unit's own contacts)
``register.yaml``         case categories, age bands and flags; limits on a register file
``focuses.yaml``          audit focuses and their selection criteria
``audit_tool.yaml``       grading scales and the versioned audit tool
``themes.yaml``           the theme taxonomy with practice prompts and policies
``cadence.yaml``          the round timeline in working days
========================  ====================================================
"""

from __future__ import annotations

from pydantic import Field

from audit_core.domain.policy import (
    AgeBand,
    Agency,
    Auditor,
    AuditTool,
    Board,
    Cadence,
    Category,
    Contact,
    Flag,
    Focus,
    Frozen,
    RegisterLimits,
    Scale,
    Theme,
)


class BoardFile(Frozen):
    board: Board


class AgenciesFile(Frozen):
    agencies: tuple[Agency, ...] = Field(min_length=1)


class PeopleFile(Frozen):
    auditors: tuple[Auditor, ...] = Field(min_length=1)
    business_unit: tuple[Contact, ...] = ()


class RegisterFile(Frozen):
    categories: tuple[Category, ...] = Field(min_length=1)
    age_bands: tuple[AgeBand, ...] = Field(min_length=1)
    flags: tuple[Flag, ...] = ()
    limits: RegisterLimits = RegisterLimits()


class FocusesFile(Frozen):
    focuses: tuple[Focus, ...] = Field(min_length=1)


class AuditToolFile(Frozen):
    scales: tuple[Scale, ...] = Field(min_length=1)
    audit_tool: AuditTool


class ThemesFile(Frozen):
    themes: tuple[Theme, ...] = Field(min_length=1)


class CadenceFile(Frozen):
    cadence: Cadence


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
