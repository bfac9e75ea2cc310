"""Cross-references in the board configuration: ids are unique and every reference exists.

:func:`audit_core.adapters.config.load_config` first validates each file on its own.
The checks here then run over every *entry* that is valid on its own, even in
a file that has problems elsewhere, so that one typo does not hide the rest:
the coordinator sees every problem in one go. Every id a file gives counts as
known, valid entry or not, so one broken agency does not also make each of
its auditors "unknown".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from audit_core.domain.errors import Problem
from audit_core.domain.policy import (
    AgeBand,
    Agency,
    Area,
    Auditor,
    Cadence,
    Category,
    Flag,
    Focus,
    Scale,
    Section,
    Theme,
)

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Entries(Generic[T]):
    """The entries of one list in a file (``agencies``, ``auditors``, ...)."""

    items: tuple[tuple[int, T], ...]  # entries valid on their own, with their index in the file
    ids: frozenset[str]  # every id the list gives, valid entry or not

    @classmethod
    def of_models(cls, models: Sequence[T]) -> Entries[T]:
        return cls(tuple(enumerate(models)), frozenset(getattr(m, "id", "") for m in models))

    @classmethod
    def salvage(cls, raw: Any, model: type[T]) -> Entries[T] | None:
        """Keep the entries of a list from a file with problems that are valid on their own."""
        if not isinstance(raw, list):
            return None
        items: list[tuple[int, T]] = []
        ids: set[str] = set()
        for index, entry in enumerate(raw):
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                ids.add(entry["id"])
            try:
                items.append((index, model.model_validate(entry)))
            except ValidationError:
                continue  # already reported by the file's own validation
        return cls(tuple(items), frozenset(ids))


@dataclass(frozen=True)
class Parts:
    """What the cross-checks look at; ``None`` where a file or list could not be read."""

    areas: Entries[Area] | None = None
    agencies: Entries[Agency] | None = None
    auditors: Entries[Auditor] | None = None
    categories: Entries[Category] | None = None
    age_bands: Entries[AgeBand] | None = None
    flags: Entries[Flag] | None = None
    focuses: Entries[Focus] | None = None
    themes: Entries[Theme] | None = None
    scales: Entries[Scale] | None = None
    sections: Entries[Section] | None = None
    tool_scale: str | None = None
    cadence: Cadence | None = None

    @classmethod
    def of_files(cls, raws: dict[str, dict[str, Any]], parsed: dict[str, Any]) -> Parts:
        """From the files as read (``raws``) and those that validated whole (``parsed``)."""

        def value(name: str, *path: str) -> Any:
            if name in parsed:
                found: Any = parsed[name]
                for key in path:
                    found = getattr(found, key)
                return found
            found = raws.get(name)
            for key in path:
                found = found.get(key) if isinstance(found, dict) else None
            return found

        def entries(model: type[T], name: str, *path: str) -> Entries[T] | None:
            found = value(name, *path)
            if name in parsed:
                return Entries.of_models(found)
            return Entries.salvage(found, model)

        scale = value("audit_tool.yaml", "audit_tool", "scale")
        return cls(
            areas=entries(Area, "board.yaml", "board", "areas"),
            agencies=entries(Agency, "agencies.yaml", "agencies"),
            auditors=entries(Auditor, "people.yaml", "auditors"),
            categories=entries(Category, "register.yaml", "categories"),
            age_bands=entries(AgeBand, "register.yaml", "age_bands"),
            flags=entries(Flag, "register.yaml", "flags"),
            focuses=entries(Focus, "focuses.yaml", "focuses"),
            themes=entries(Theme, "themes.yaml", "themes"),
            scales=entries(Scale, "audit_tool.yaml", "scales"),
            sections=entries(Section, "audit_tool.yaml", "audit_tool", "sections"),
            tool_scale=scale if isinstance(scale, str) else None,
            cadence=parsed["cadence.yaml"].cadence if "cadence.yaml" in parsed else None,
        )


def cross_check(parts: Parts, root: Path) -> list[Problem]:
    """Every problem of uniqueness and reference among ``parts``.

    1. Ids are unique within each list (areas, agencies, auditors, ...).
    2. Agencies work in known areas.
    3. Auditors belong to a known agency and cover known areas that their
       agency works in; no practitioner id is given to two auditors of one agency.
    4. Focuses name known categories, flags and themes.
    5. The audit tool's scale exists; grades are unique within each scale.
    6. The cadence's escalations and reminders are in a sensible order.
    """
    problems: list[Problem] = []

    def report(name: str, key: str, reason: str) -> None:
        problems.append(Problem(str(root / name), key, reason))

    def unique(name: str, key: str, items: Iterable[tuple[int, str]], kind: str = "id") -> None:
        seen: set[str] = set()
        for index, item_id in items:
            if item_id in seen:
                report(name, f"{key}[{index}].id", f"{kind} '{item_id}' is used twice")
            seen.add(item_id)

    def ids(entries: Entries[Any]) -> list[tuple[int, str]]:
        return [(index, item.id) for index, item in entries.items]

    def unknown(kind: str, value: str, choices: frozenset[str]) -> str:
        return f"unknown {kind} '{value}' (expected one of: {', '.join(sorted(choices))})"

    # 1. unique ids
    for name, key, entries in (
        ("board.yaml", "board.areas", parts.areas),
        ("agencies.yaml", "agencies", parts.agencies),
        ("people.yaml", "auditors", parts.auditors),
        ("register.yaml", "categories", parts.categories),
        ("register.yaml", "age_bands", parts.age_bands),
        ("register.yaml", "flags", parts.flags),
        ("focuses.yaml", "focuses", parts.focuses),
        ("themes.yaml", "themes", parts.themes),
        ("audit_tool.yaml", "scales", parts.scales),
        ("audit_tool.yaml", "audit_tool.sections", parts.sections),
    ):
        if entries is not None:
            unique(name, key, ids(entries))

    # 2. agencies' areas
    areas = parts.areas.ids if parts.areas is not None else None
    if parts.agencies is not None and areas is not None:
        for i, agency in parts.agencies.items:
            for j, area in enumerate(agency.areas):
                if area not in areas:
                    report(
                        "agencies.yaml", f"agencies[{i}].areas[{j}]", unknown("area", area, areas)
                    )

    # 3. auditors
    if parts.auditors is not None:
        agencies = parts.agencies.ids if parts.agencies is not None else None
        works_in: dict[str, tuple[str, ...]] = {}
        for _, agency in parts.agencies.items if parts.agencies is not None else ():
            works_in.setdefault(agency.id, agency.areas)  # a duplicate is reported above
        owner: dict[tuple[str, str], str] = {}
        for i, auditor in parts.auditors.items:
            key = f"auditors[{i}]"
            if agencies is not None and auditor.agency not in agencies:
                report("people.yaml", f"{key}.agency", unknown("agency", auditor.agency, agencies))
            for j, area in enumerate(auditor.areas):
                if areas is not None and area not in areas:
                    report("people.yaml", f"{key}.areas[{j}]", unknown("area", area, areas))
                elif auditor.agency in works_in and area not in works_in[auditor.agency]:
                    report(
                        "people.yaml",
                        f"{key}.areas[{j}]",
                        f"agency '{auditor.agency}' does not work in area '{area}' "
                        f"(it works in: {', '.join(works_in[auditor.agency])})",
                    )
            for pid in auditor.practitioner_ids:
                other = owner.setdefault((auditor.agency, pid), auditor.id)
                if other != auditor.id:
                    report(
                        "people.yaml",
                        f"{key}.practitioner_ids",
                        f"practitioner id '{pid}' is already given to auditor '{other}'",
                    )

    # 4. focuses
    if parts.focuses is not None:
        lists = (
            ("categories", parts.categories, "category"),
            ("flags_any", parts.flags, "flag"),
            ("themes", parts.themes, "theme"),
        )
        for i, focus in parts.focuses.items:
            for field, choices, kind in lists:
                if choices is None:
                    continue
                for j, value in enumerate(getattr(focus, field)):
                    if value not in choices.ids:
                        report(
                            "focuses.yaml",
                            f"focuses[{i}].{field}[{j}]",
                            unknown(kind, value, choices.ids),
                        )
            if parts.areas is not None and isinstance(focus.cases_per_area, dict):
                for area_id in focus.cases_per_area:
                    if area_id not in parts.areas.ids:
                        report(
                            "focuses.yaml",
                            f"focuses[{i}].cases_per_area.{area_id}",
                            unknown("area", area_id, parts.areas.ids),
                        )

    # 5. scales
    if parts.scales is not None:
        if parts.tool_scale is not None and parts.tool_scale not in parts.scales.ids:
            report(
                "audit_tool.yaml",
                "audit_tool.scale",
                unknown("scale", parts.tool_scale, parts.scales.ids),
            )
        for i, scale in parts.scales.items:
            grades = [(j, g.id) for j, g in enumerate(scale.grades)]
            unique("audit_tool.yaml", f"scales[{i}].grades", grades, "grade")

    # 6. cadence
    if parts.cadence is not None:
        problems.extend(cadence_problems(parts.cadence, str(root / "cadence.yaml")))
    return problems


def cadence_problems(cadence: Cadence, display: str) -> list[Problem]:
    """Escalations in order, and no reminder on or before the launch day."""
    problems = []
    levels = [e.level for e in cadence.escalations]
    if levels != sorted(set(levels)):
        problems.append(
            Problem(
                display,
                "cadence.escalations",
                f"escalation levels must be distinct and in increasing order (got {levels})",
            )
        )
    offsets = [e.after_due for e in cadence.escalations]
    if offsets != sorted(offsets):
        problems.append(
            Problem(
                display,
                "cadence.escalations",
                "a later escalation level must not come before an earlier one "
                f"(working days after the deadline: {offsets})",
            )
        )
    reminders = cadence.reminders_before_due
    if reminders and max(reminders) >= cadence.returns_due:
        problems.append(
            Problem(
                display,
                "cadence.reminders_before_due",
                f"a reminder {max(reminders)} working days before the deadline would fall on "
                f"or before the launch day (returns are due {cadence.returns_due} working days "
                "after launch)",
            )
        )
    return problems
