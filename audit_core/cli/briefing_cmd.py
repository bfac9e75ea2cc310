"""``auditround briefing``: draft, edit, approve and issue an area's learning briefing.

A briefing is named by its area and its scope: ``--area hackney`` with one or more
``--round 2026-H1``, or with ``--year 2026-27`` (every round launched in that board
year). The use cases are :mod:`audit_core.services.briefings`; the edited file is
YAML, in the shape :mod:`audit_core.domain.briefing_edit` reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError, Problem

if TYPE_CHECKING:
    from audit_core.domain.briefing import BriefingContent
    from audit_core.domain.briefing_scope import Scope
    from audit_core.services.briefings import BriefingVersion, IssuedBriefing

app = typer.Typer(
    help="Draft an area's learning briefing from the audit day, edit, approve and issue it.",
    no_args_is_help=True,
)

AREA = typer.Option(..., "--area", help="The area the briefing is of, e.g. hackney.")
ROUNDS = typer.Option(
    None, "--round", help="A round it covers, e.g. 2026-H1; repeat the option for several."
)
YEAR = typer.Option(
    None, "--year", help="Or the board year it covers, e.g. 2026-27 (the rounds launched in it)."
)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _scope(rounds: list[str] | None, year: str | None) -> Scope:
    from audit_core.domain.briefing_scope import parse_scope

    if bool(rounds) == bool(year):
        raise AuditRoundError(
            "Give the rounds the briefing covers (--round ROUND, once or more) or its board "
            "year (--year 2026-27), not both."
        )
    return parse_scope(rounds or (), year)


def _options(area: str, scope: Scope) -> str:
    """The options that name this briefing again, for the next command to type."""
    if scope.year is not None:
        return f"--area {area} --year {scope.year}"
    return f"--area {area} " + " ".join(f"--round {r}" for r in scope.round_ids)


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    zone = ZoneInfo(STATE.app.config().board.timezone)
    return value.astimezone(zone).strftime("%a %d/%m/%Y %H:%M")


def _name(v: BriefingVersion) -> str:
    area = STATE.app.config().area(v.area_id).name
    return f"version {v.version} of the {escape(area)} briefing {v.scope}"


def _upper(text: str) -> str:
    """The sentence with its first letter a capital (and nothing else changed)."""
    return text[:1].upper() + text[1:]


def _held(content: BriefingContent) -> str:
    cases = sum(len(r.cases) for r in content.rounds)
    strengths = sum(len(g.items) for r in content.rounds for g in r.strengths)
    lessons = sum(len(r.lessons) for r in content.rounds)
    return (
        f"{plural(cases, 'case')}, {plural(strengths, 'strength')} and "
        f"{plural(lessons, 'lesson')} over {plural(len(content.rounds), 'round')}"
    )


@app.command("draft")
def draft(
    area: str = AREA,
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    as_json: bool = JSON,
) -> None:
    """Draft a new version of the briefing from the audit day's record of its rounds.

    Every round must have its audit day recorded and complete (or be closed). A draft
    pending is kept: the new one is the next version."""
    from audit_core.services.briefings import draft as make_draft

    scope = _scope(rounds, year)
    with STATE.app.unit_of_work() as uow:
        made = make_draft(uow, area, scope)
    if as_json:
        print_json(made.to_json())
        return
    name = _name(made)
    if not made.changed:
        console.print(
            f"Nothing new: {name} ({made.status}) holds this content already.", highlight=False
        )
        return
    console.print(f"[bold green]Drafted[/] {name}: {_held(made.content)}.", highlight=False)
    options = _options(area, scope)
    console.print(f"Read it: auditround briefing show {options}", highlight=False, soft_wrap=True)
    console.print(
        f"Edit it: auditround briefing edit FILE.yaml --start {options}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("edit")
def edit(
    file: Path = typer.Argument(..., metavar="FILE", help="The YAML file of the briefing."),
    area: str = AREA,
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    start: bool = typer.Option(
        False, "--start", help="Write the latest version to FILE to edit, instead of reading it."
    ),
    force: bool = typer.Option(False, "--force", help="With --start: write over FILE."),
    note: str = typer.Option("", "--note", help="What this version changes, for the list."),
    as_json: bool = JSON,
) -> None:
    """Write the latest version to FILE (--start), or read FILE back as a new draft version.

    Approved and issued versions never change: an edit is always a new version, to be
    approved (and issued) in turn."""
    from audit_core.services import briefings

    scope = _scope(rounds, year)
    options = _options(area, scope)
    if start:
        if file.exists() and not force:
            raise AuditRoundError(f"{file} exists already: give another file, or --force.")
        with STATE.app.unit_of_work() as uow:
            latest = briefings.show(uow, area, scope)
        _write_file(file, latest, options)
        if as_json:
            print_json({"written": str(file), "briefing": latest.to_json()})
            return
        console.print(f"Wrote {_name(latest)} ({latest.status}) to {escape(str(file))}.")
        console.print(
            f"Edit it, then read it back: auditround briefing edit {escape(str(file))} "
            f"{options} --note 'what changed'",
            highlight=False,
            soft_wrap=True,
        )
        return
    content = _read_file(file)
    with STATE.app.unit_of_work() as uow:
        made = briefings.edit(uow, area, scope, content, note, source=str(file))
    if as_json:
        print_json(made.to_json())
        return
    if not made.changed:
        console.print(f"Nothing changed: {escape(str(file))} is {_name(made)} as it stands.")
        return
    console.print(f"[bold green]Saved[/] {_name(made)}, a draft: {_held(made.content)}.")
    console.print(
        f"Someone other than its writer approves it: auditround briefing approve {options}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("approve")
def approve(
    area: str = AREA,
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    version: int | None = typer.Option(
        None, "--version", min=1, help="The version read (refused if it is not the latest)."
    ),
    as_json: bool = JSON,
) -> None:
    """Approve the latest version, a draft; with a second approver (board.yaml), only
    someone other than whoever wrote it may."""
    from audit_core.services.briefings import approve as approve_version

    scope = _scope(rounds, year)
    with STATE.app.unit_of_work() as uow:
        approved = approve_version(uow, area, scope, version)
    if as_json:
        print_json(approved.to_json())
        return
    if not approved.changed:
        console.print(
            f"{_upper(_name(approved))} was approved already, by "
            f"{escape(approved.approved_by or '')} on {_when(approved.approved_at)}."
        )
    else:
        console.print(
            f"[bold green]Approved[/] {_name(approved)} (by {escape(approved.approved_by or '')})."
        )
    console.print(
        f"Issue it: auditround briefing issue {_options(area, scope)}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("issue")
def issue(
    area: str = AREA,
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    out: Path = typer.Option(
        Path("out"),
        "--out",
        help="The folder the HTML and PDF files are written to.",
        file_okay=False,
    ),
    as_json: bool = JSON,
) -> None:
    """Issue the approved latest version: the files in both layouts are written to --out,
    and the PDF is emailed to the distribution list (board.yaml). Rounds whose every area
    now has its briefing issued are closed.

    Issued already: nothing is sent again, and the files are written again. Exits 3 if
    the email was refused for good, 4 if the mail server could not be reached."""
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch

    issued, written, sent = STATE.app.issue_briefing(area, _scope(rounds, year), out)
    if as_json:
        print_json(
            {
                "issue": issued.to_json(),
                "files": [str(p) for p in written],
                "dispatch": dataclasses.asdict(sent),
            }
        )
        exit_if_undelivered(sent)
        return
    _print_issued(issued, written)
    print_dispatch(sent, as_json=False)
    exit_if_undelivered(sent)


def _print_issued(issued: IssuedBriefing, written: list[Path]) -> None:
    v = issued.version
    if issued.already_issued:
        console.print(
            f"{_upper(_name(v))} was issued already, on {_when(v.issued_at)}: nothing "
            "was sent again; its files are written again.",
            highlight=False,
        )
    else:
        corrects = f", correcting version {issued.corrects}" if issued.corrects else ""
        console.print(
            f"[bold green]Issued[/] {_name(v)}{corrects}: emailed with its PDF to "
            f"{escape(', '.join(issued.recipients))}.",
            highlight=False,
        )
    for path in written:
        console.print(f"  {escape(str(path))}", highlight=False)
    for rid in issued.rounds_closed:
        console.print(f"Round {rid} is closed: every area's briefing of it is issued.")


@app.command("list")
def list_versions(
    area: str | None = typer.Option(None, "--area", help="Only this area's briefings."),
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    as_json: bool = JSON,
) -> None:
    """Every version of every briefing (or of one area, or one briefing): its status, who
    wrote, approved and issued it, and when."""
    from audit_core.services import briefings

    with STATE.app.unit_of_work() as uow:
        if rounds or year:
            if area is None:
                raise AuditRoundError("Give --area AREA with the rounds or the year.")
            found = briefings.versions(uow, area, _scope(rounds, year))
        else:
            found = briefings.every_version(uow, area)
    if as_json:
        print_json([v.to_json() for v in found])
        return
    if not found:
        console.print("No briefing has been drafted yet: auditround briefing draft --area A ...")
        return
    table = Table(title=f"Briefings ({plural(len(found), 'version')})")
    for column in ("area", "scope", "version", "status", "written", "approved", "issued", "note"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for v in found:
        table.add_row(
            v.area_id,
            v.scope,
            str(v.version),
            v.status,
            f"{_when(v.created_at)} {escape(v.created_by)}",
            f"{_when(v.approved_at)} {escape(v.approved_by or '')}".strip(),
            f"{_when(v.issued_at)} {escape(v.issued_by or '')}".strip(),
            escape(v.note),
        )
    console.print(table)


@app.command("show")
def show(
    area: str = AREA,
    rounds: list[str] | None = ROUNDS,
    year: str | None = YEAR,
    version: int | None = typer.Option(None, "--version", min=1, help="Default: the latest."),
    as_json: bool = JSON,
) -> None:
    """One version of the briefing, as it will print: cases, grades, strengths, lessons."""
    from audit_core.services.briefings import show as show_version

    with STATE.app.unit_of_work() as uow:
        found = show_version(uow, area, _scope(rounds, year), version)
    if as_json:
        print_json(found.to_json(content=True))
        return
    status = found.status + (f" {_when(found.issued_at)}" if found.issued_at else "")
    console.print(
        f"[bold]{_upper(_name(found))}[/] ({status}); written by "
        f"{escape(found.created_by)} on {_when(found.created_at)}.",
        highlight=False,
    )
    _print_content(found.content)


def _print_content(content: BriefingContent) -> None:
    say = console.print
    say(f"\n[bold]{escape(content.title)}: {escape(content.area_name)}, {content.period}[/]")
    if content.introduction:
        say(f"[italic]{escape(content.introduction)}[/]")
    say(escape(content.process))
    for part in content.rounds:
        say(f"\n[bold underline]{escape(part.heading)}[/] ({part.round_id}, {part.period})")
        for case in part.cases:
            say(f"  [bold]({case.label})[/] {escape(case.summary)}")
        grades = ", ".join(f"{escape(g.label)} {g.count}" for g in part.grades)
        say(f"  Agreed grades: {grades}")
        say("\n[bold]Strengths[/]")
        for group in part.strengths:
            if part.strengths_by_theme:
                say(f"  [bold]{escape(group.heading)}[/] {escape(group.intro)}".rstrip())
            for item in group.items:
                say(f"  - {_bold_phrase(item.key_phrase, item.text)}")
        say("\n[bold]Lessons[/]" + (f" {escape(part.lessons_note)}" if part.lessons_note else ""))
        for lesson in part.lessons:
            again = " [yellow](recurring)[/]" if lesson.recurring else ""
            say(f"  [bold]{escape(lesson.heading)}[/]{again}: {escape(lesson.text)}")
            for prompt in lesson.prompts:
                say(f"    > {escape(prompt)}")
            for link in lesson.links:
                say(f"    {escape(link.title)}: {escape(link.url)}")


def _bold_phrase(phrase: str, text: str) -> str:
    """The strength's text with its key phrase in bold: inside it where it holds the
    phrase, else before it."""
    if not phrase:
        return escape(text)
    if phrase in text:
        before, _, after = text.partition(phrase)
        return f"{escape(before)}[bold]{escape(phrase)}[/]{escape(after)}"
    return f"[bold]{escape(phrase)}[/] - {escape(text)}"


# --- the edited file ---------------------------------------------------------------------


def _write_file(path: Path, version: BriefingVersion, options: str) -> None:
    """The version's content as YAML, after a comment saying what it is and what next."""
    from audit_core.domain.briefing_edit import to_data

    header = [
        f"# {_upper(_name(version))} ({version.status}).",
        "# Edit the text, then read it back as a new draft version:",
        f"#     auditround briefing edit {path.name} {options} --note 'what changed'",
        "# Keep the keys; ids (area_id, scope, round_id, theme_id, grade_id) stay as they are.",
        "# Never name a child: cases are 'Case 1', 'Case 2', ... Links start https://.",
        "",
    ]
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text("\n".join(header) + _yaml(to_data(version.content)), encoding="utf-8")
    temporary.replace(path)


def _yaml(data: dict[str, Any]) -> str:
    """YAML in the fields' order, wrapped at 88 columns; text with line breaks as a block."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=88)


def _read_file(path: Path) -> BriefingContent:
    """The content in the file, or every problem of it at once (nothing is changed)."""
    import yaml

    from audit_core.domain.briefing_edit import BriefingFileError, from_data

    shown = str(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BriefingFileError([Problem(shown, "", "the file does not exist")]) from None
    except UnicodeDecodeError:
        raise BriefingFileError([Problem(shown, "", "not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "not YAML"
        raise BriefingFileError([Problem(shown, where, f"not valid YAML ({reason})")]) from None
    return from_data(data, shown)
