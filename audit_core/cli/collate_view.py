"""The tables ``auditround round collate`` prints; the figures come from
:mod:`audit_core.services.collation`."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import console, plural

if TYPE_CHECKING:
    from audit_core.domain.collation import CaseGrades, Figures, ThemeGroup
    from audit_core.services.collation import Collation

SHOWN_TEXT = 160  # characters of a lesson shown in its table (--json has the whole text)


def print_collation(collation: Collation) -> None:
    """Every table of the collation, in the order the audit day reads them."""
    f = collation.figures
    t = f.totals
    console.print(
        f"[bold]Round {collation.round_id}[/]: {escape(collation.focus_name)} - "
        f"{collation.status}; {t.submitted} of {plural(t.assignments, 'return')} submitted, "
        f"{t.not_received} not received, over {plural(t.cases, 'case')}.",
        highlight=False,
    )
    scale = ", ".join(f"{escape(label)} {score}" for _, label, score in f.grades)
    console.print(
        f"Audit tool {collation.audit_tool}; means use the {escape(collation.scale_name)} "
        f"scores ({scale}; higher is better). Collated "
        f"{collation.collated_at:%a %d/%m/%Y at %H:%M}.",
        highlight=False,
    )
    if collation.status == "open":
        console.print("[yellow]The round is still open: more returns may come in.[/]")
    if t.submitted:
        console.print(_grades_table(f, f"Grades by section ({plural(t.submitted, 'return')})"))
        console.print(_agency_table(f))
    else:
        console.print("No return has been submitted yet.")
    for case in f.cases:
        console.print(_case_table(f, case))
    for title, groups, strength in (
        ("Strengths by theme", f.strengths, True),
        ("Lessons by theme", f.lessons, False),
    ):
        if groups:
            console.print(_theme_table(title, groups, strength=strength))
    _print_recurring(collation)
    _print_not_received(f)
    _print_concerns(f)


def _mean(mean: float | None) -> str:
    return f"{mean:.2f}" if mean is not None else "-"


def _grades_table(f: Figures, title: str) -> Table:
    """A row per section: how many returns gave each grade of the scale, and the mean."""
    table = Table(title=title)
    table.add_column("section")
    for _, label, _ in f.grades:
        table.add_column(escape(label), justify="right")
    table.add_column("graded", justify="right")
    table.add_column("mean", justify="right")
    for section in f.by_section:
        counts = dict(section.counts)
        table.add_row(
            escape(section.title),
            *(str(counts.get(grade_id, 0)) for grade_id, _, _ in f.grades),
            str(section.graded),
            _mean(section.mean),
        )
    return table


def _agency_table(f: Figures) -> Table:
    """A row per agency and section: the grades given (only those given) and their mean."""
    labels = {grade_id: label for grade_id, label, _ in f.grades}
    table = Table(title="Grades by agency")
    for column in ("agency", "section", "grades given"):
        table.add_column(column)
    table.add_column("mean", justify="right")
    for agency in f.by_agency:
        label = f"{agency.agency_name} ({plural(agency.returns, 'return')})"
        for n, section in enumerate(agency.sections):
            given = ", ".join(f"{labels.get(g, g)} {count}" for g, count in section.counts if count)
            table.add_row(
                escape(label) if n == 0 else "",
                escape(section.title),
                escape(given) or "-",
                _mean(section.mean),
                end_section=n == len(agency.sections) - 1,
            )
    return table


def _case_table(f: Figures, case: CaseGrades) -> Table:
    """One case, its agencies side by side: a column each, a row per section."""
    labels = {grade_id: label for grade_id, label, _ in f.grades}
    table = Table(title=f"Case {escape(case.reference)} ({escape(case.area_name)})")
    table.add_column("section")
    for column in case.agencies:
        heading = escape(column.agency_name)
        if not column.received:
            heading += f"\n[yellow]not received: {column.state}[/]"
        table.add_column(heading)
    given = [dict(column.grades) for column in case.agencies]
    for section in f.by_section:
        cells = [
            escape(labels.get(grade, grade)) if (grade := g.get(section.section_id)) else "-"
            for g in given
        ]
        table.add_row(escape(section.title), *cells)
    return table


def _theme_table(title: str, groups: tuple[ThemeGroup, ...], *, strength: bool) -> Table:
    table = Table(title=title)
    table.add_column("theme")
    table.add_column("count", justify="right")
    table.add_column("case, agency: key phrase" if strength else "case, agency: lesson")
    for group in groups:
        lines = []
        for e in group.entries:
            said = e.key_phrase if strength else textwrap.shorten(e.text, SHOWN_TEXT)
            lines.append(f"{escape(e.case_ref)}, {escape(e.agency_name)}: {escape(said)}")
        table.add_row(escape(group.theme_name), str(group.count), "\n".join(lines))
    return table


def _print_recurring(collation: Collation) -> None:
    """Each area's lesson themes that were lessons of its previous round too."""
    for r in collation.recurring:
        if r.themes:
            themes = ", ".join(escape(name) for _, name in r.themes)
            console.print(
                f"[bold]Well established findings[/] in {escape(r.area_name)}: {themes} "
                f"(lessons of round {r.previous_round_id} too).",
                highlight=False,
            )


def _print_not_received(f: Figures) -> None:
    if not f.not_received:
        console.print("Every return is in.")
        return
    table = Table(title=f"Not received ({len(f.not_received)})")
    for column in ("case", "area", "agency", "auditor", "state", "due"):
        table.add_column(column)
    for n in f.not_received:
        state = n.state + (", concern raised in the draft" if n.concern_in_draft else "")
        table.add_row(
            escape(n.case_ref),
            n.area_id,
            escape(n.agency_name),
            escape(n.auditor_name or "no auditor"),
            state,
            f"{n.due_on:%d/%m/%Y}",
        )
    console.print(table)


def _print_concerns(f: Figures) -> None:
    if not f.concerns:
        console.print("No immediate concern was raised in a submitted return.")
        return
    table = Table(
        title=f"Immediate concerns raised ({len(f.concerns)}): for the business unit only"
    )
    for column in ("case", "area", "agency", "auditor", "description (business unit only)"):
        table.add_column(column)
    for c in f.concerns:
        table.add_row(
            escape(c.case_ref),
            c.area_id,
            escape(c.agency_name),
            escape(c.auditor_name or ""),
            escape(c.description),
        )
    console.print(table)
