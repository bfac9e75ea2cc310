"""``auditround config``: check the board's configuration."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from audit_core.cli.common import STATE, console, print_json
from audit_core.domain.errors import ConfigError, Problem

app = typer.Typer(help="Check the board's configuration.", no_args_is_help=True)


@app.command("check")
def check(as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Validate every configuration file and list every problem at once."""
    try:
        config = STATE.app.config()
    except ConfigError as exc:
        if as_json:
            print_json({"ok": False, "problems": [vars(p) for p in exc.problems]})
        else:
            _print_problems(exc)
        raise typer.Exit(exc.exit_code) from None
    summary = {
        "folder": config.source,
        "board": config.board.name,
        "areas": len(config.board.areas),
        "agencies": len(config.agencies),
        "auditors": sum(1 for a in config.auditors if a.active),
        "focuses": len(config.focuses),
        "themes": len(config.themes),
        "audit_tool": f"{config.audit_tool.name} v{config.audit_tool.version}",
        "scale": config.scale.name,
    }
    if as_json:
        print_json({"ok": True, **summary})
        return
    table = Table(title=f"Configuration OK: {config.board.name}", show_header=False)
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


def _print_problems(error: ConfigError) -> None:
    """The problems on standard error, grouped by file, one line each (easy to search)."""
    err = Console(stderr=True)
    err.print(Text(error.summary().splitlines()[0], style="bold red"), soft_wrap=True)
    by_file: dict[str, list[Problem]] = {}
    for problem in error.problems:
        by_file.setdefault(problem.file, []).append(problem)
    for file, problems in by_file.items():
        err.print(Text(f"\n{Path(file)}", style="bold"), soft_wrap=True)
        for problem in problems:
            line = Text("  - ")
            if problem.location:
                line.append(problem.location, style="cyan").append(": ")
            line.append(problem.reason)
            err.print(line, soft_wrap=True)
