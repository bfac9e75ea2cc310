"""What every step of the rehearsal shares: the console, and running a command as typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

OUT = Path("out")
console = Console()


class DemoStopped(Exception):
    """A step of the rehearsal failed; the demo stops there."""


def run(title: str, args: Sequence[str]) -> None:
    """Run one auditround command in this process, as a coordinator would type it."""
    from audit_core.cli import app

    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ auditround {' '.join(args)}[/]")
    code = app(list(args), standalone_mode=False)
    if isinstance(code, int) and code != 0:
        raise DemoStopped(f"'auditround {' '.join(args)}' failed (exit code {code}).")


def at(day: dt.date, time: str) -> str:
    """``--now`` for a time of a day."""
    return f"{day.isoformat()}T{time}"
