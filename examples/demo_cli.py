"""What every step of the rehearsal shares: the console, running a command as typed, and
running a step of the cycle as its Prefect flow.

The flows run on Prefect's temporary server, which keeps its runs, logs and artifacts in
``out/prefect/`` (``PREFECT_HOME``): ``PREFECT_HOME=out/prefect prefect server start``
shows them in the Prefect UI afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from prefect import Flow

OUT = Path("out")
PREFECT_HOME = OUT / "prefect"
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


def run_flow(title: str, flow: Flow[..., Any], **parameters: Any) -> Any:
    """Run one step of the cycle as its Prefect flow, as a deployment would; its result."""
    console.rule(f"[bold]{title}")
    shown = ", ".join(f"{name}={value!r}" for name, value in parameters.items())
    console.print(f"[dim]Prefect flow {flow.name}({shown})[/]")
    return flow(**parameters)


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """Flow runs without heartbeats, which only serve to find the runs of a worker that died
    (the rehearsal's runs are in this process); with them, Prefect ends each run by waiting
    up to a second for its heartbeat thread."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def at(day: dt.date, time: str) -> str:
    """``--now`` for a time of a day."""
    return f"{day.isoformat()}T{time}"
