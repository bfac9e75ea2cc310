"""``auditround config``: check the board's configuration."""

from __future__ import annotations

import typer
from rich.table import Table

from audit_core.cli.common import STATE, console, print_json

app = typer.Typer(help="Check the board's configuration.", no_args_is_help=True)


@app.command("check")
def check(as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Validate every configuration file and list every problem at once."""
    config = STATE.config()
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
